package io.botengine.job;

import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Outgoing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The live preview of the text output being generated (Runner protocol section 6): the deltas of
 * one index are joined and shown while they arrive, as a message draft ({@link Mode#DRAFT}) or, in
 * a chat that refused drafts, as a message edited as it grows ({@link Mode#EDIT}). At most one
 * call is in flight and none goes while the display rests (the task actor's interval timer,
 * started whenever {@link #resting()} turns true), so whatever arrives meanwhile is coalesced into
 * the next call: the calls for one output are bounded by its duration, never by its deltas. A
 * text past 4096 characters sends its finished parts as real messages as soon as they are final
 * and previews the rest. The preview is never the delivery: when the complete output goes, {@link
 * #finalParts} leaves out the parts already sent and, in edit mode, finishes the preview message
 * with the first part left. Each method returns the calls to make now. Not thread-safe: owned by
 * one task actor.
 */
final class LivePreview {
  private static final long NONE = -1;

  /** How previews are shown ({@code bot.streaming.mode}). */
  enum Mode {
    DRAFT,
    EDIT,
    OFF;

    /** The mode named {@code draft}, {@code edit} or {@code off}. */
    static Mode of(String name) {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    }
  }

  /**
   * {@code bot.streaming}: the mode, the rest after a call in draft and in edit mode, and how long
   * a draft may stay unchanged before it is sent again (Telegram lets it expire after about 30 s).
   */
  record Settings(Mode mode, Duration previewInterval, Duration editInterval,
      Duration draftRefresh) {
    static final Settings OFF =
        new Settings(
            Mode.OFF, Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(20));

    /** The rest after a call, in the current {@code mode}. */
    Duration interval(Mode current) {
      return current == Mode.EDIT ? editInterval : previewInterval;
    }
  }

  /** An edit-mode preview message just created: output {@code index}, message {@code messageId}. */
  record Created(long index, long messageId) {}

  /** What an output's preview left for its real message. */
  private record Leftover(List<String> sentParts, Long messageId) {}

  private final String jobId;
  private Mode mode;
  private long index = NONE;
  private long closedUpTo;
  private final StringBuilder text = new StringBuilder();
  private final List<String> sentParts = new ArrayList<>();
  private final Map<Long, Leftover> leftovers = new HashMap<>();
  private String shown;
  private Long messageId;
  private boolean creating;
  private int calls;
  private boolean resting;
  private int replayedUpTo;
  private Created created;

  /** The preview of a job's outputs after {@code lastDelivered}, in {@code mode}. */
  LivePreview(Mode mode, String jobId, long lastDelivered) {
    this.mode = mode;
    this.jobId = jobId;
    this.closedUpTo = lastDelivered;
  }

  Mode mode() {
    return mode;
  }

  /**
   * A delta arrived. {@code showable} is the index whose preview may be shown now (the next one to
   * deliver while none is in flight), or -1. A delta of an index already closed, or older than the
   * one previewed, is dropped.
   */
  List<Outgoing> delta(RunnerFrame.Delta delta, long showable) {
    if (mode == Mode.OFF || delta.index() <= closedUpTo || delta.index() < index) {
      return List.of();
    }
    if (delta.index() > index) {
      restart(delta.index());
    }
    text.append(delta.text());
    return due(showable);
  }

  /**
   * The joined deltas of the output previewed, when its complete frame never came and the stream
   * moved past it ({@code later} is the index that arrived, or {@link Long#MAX_VALUE} at the end):
   * that is the output (section 6). Its preview is closed.
   */
  Optional<RunnerFrame.Output> orphan(long later) {
    if (index == NONE || index <= closedUpTo || index >= later || text.isEmpty()) {
      return Optional.empty();
    }
    long orphan = index;
    String content = text.toString();
    close(orphan);
    return Optional.of(new RunnerFrame.Output(orphan, RunnerFrame.Kind.TEXT, content, null, null));
  }

  /**
   * The stream was connected again: the deltas of the output in progress come again from its
   * start. What the preview shows stays until the replay has caught up with it.
   */
  void reconnected() {
    if (index != NONE && index > closedUpTo) {
      replayedUpTo = text.length();
      text.setLength(0);
    }
  }

  /** The complete output of {@code completed} arrived: its preview ends, nothing more is shown. */
  void close(long completed) {
    if (completed == index && completed > closedUpTo) {
      leftovers.put(completed, new Leftover(List.copyOf(sentParts), messageId));
      messageId = null;
      creating = false;
    }
    closedUpTo = Math.max(closedUpTo, completed);
  }

  /** Whatever waits may be shown now (an output was delivered), unless the display rests. */
  List<Outgoing> resume(long showable) {
    return due(showable);
  }

  /** The rest after the last call is over: the call that waited for it, if any. */
  List<Outgoing> rested(long showable) {
    resting = false;
    return due(showable);
  }

  /**
   * A {@code call} this preview asked for finished with {@code result}: a message id, or {@link
   * ChatOutbox#NOT_SENT}, or {@link ChatOutbox#DRAFTS_REFUSED} (the chat is previewed by edits
   * from now on).
   */
  List<Outgoing> callDone(Outgoing call, long result, long showable) {
    calls = Math.max(0, calls - 1);
    if (call instanceof Outgoing.Draft && result == ChatOutbox.DRAFTS_REFUSED
        && mode == Mode.DRAFT) {
      mode = Mode.EDIT;
      shown = null;
    } else if (isPreviewMessage(call) && creating) {
      creating = false;
      messageId = result >= 0 ? result : null;
      if (messageId == null) {
        shown = null;
      } else {
        created = new Created(index, result);
      }
    }
    return due(showable);
  }

  /** The preview message the last {@link #callDone} created, once (to be recorded), if any. */
  Optional<Created> takeCreated() {
    Optional<Created> taken = Optional.ofNullable(created);
    created = null;
    return taken;
  }

  /**
   * An earlier task of this job left {@code leftMessageId} as the edit-mode preview of output
   * {@code leftIndex}: it is edited on, finished as the output's first part, or deleted, never
   * sent again.
   */
  void adopt(long leftIndex, long leftMessageId) {
    if (leftIndex > closedUpTo && leftMessageId > 0) {
      restart(leftIndex);
      messageId = leftMessageId;
    }
  }

  /** The edit-mode preview message is created as plain text; finished parts go as Markdown. */
  private static boolean isPreviewMessage(Outgoing call) {
    return call instanceof Outgoing.Text text && text.parseMode() == null;
  }

  /** The draft shown is about to expire: show it again, unless a call is on its way anyway. */
  List<Outgoing> refresh(long showable) {
    if (mode != Mode.DRAFT || shown == null || calls > 0 || index <= closedUpTo
        || index != showable) {
      return List.of();
    }
    calls++;
    return List.of(new Outgoing.Draft(draftId(), shown));
  }

  /** A call was sent less than an interval ago. */
  boolean resting() {
    return resting;
  }

  /** A draft is on screen and must be refreshed before it expires. */
  boolean drafting() {
    return mode == Mode.DRAFT && shown != null && index > closedUpTo;
  }

  /**
   * The messages that deliver output {@code delivered}, from its {@code rendered} parts: those its
   * preview already sent are left out, and an edit-mode preview message becomes the first part left
   * (or is deleted when none is left).
   */
  List<Outgoing> finalParts(long delivered, List<Outgoing> rendered) {
    close(delivered);
    Leftover left = leftovers.remove(delivered);
    if (left == null) {
      return rendered;
    }
    int skip = 0;
    while (skip < left.sentParts().size() && skip < rendered.size()
        && rendered.get(skip) instanceof Outgoing.Text part
        && part.text().equals(left.sentParts().get(skip))) {
      skip++;
    }
    List<Outgoing> parts = new ArrayList<>(rendered.subList(skip, rendered.size()));
    if (left.messageId() != null) {
      if (!parts.isEmpty() && parts.get(0) instanceof Outgoing.Text first) {
        parts.set(0, new Outgoing.Edit(left.messageId(), first.text(), first.parseMode()));
      } else {
        parts.add(0, new Outgoing.Delete(left.messageId()));
      }
    }
    return parts;
  }

  /** The task ends without delivering: a draft simply ends; preview messages are deleted. */
  List<Outgoing> end() {
    List<Outgoing> deletes = new ArrayList<>();
    if (messageId != null) {
      deletes.add(new Outgoing.Delete(messageId));
    }
    leftovers.values().stream()
        .filter(l -> l.messageId() != null)
        .forEach(l -> deletes.add(new Outgoing.Delete(l.messageId())));
    messageId = null;
    leftovers.clear();
    closedUpTo = Math.max(closedUpTo, index);
    return deletes;
  }

  private void restart(long newIndex) {
    index = newIndex;
    replayedUpTo = 0;
    text.setLength(0);
    sentParts.clear();
    shown = null;
    messageId = null;
    creating = false;
  }

  private List<Outgoing> due(long showable) {
    if (mode == Mode.OFF || index == NONE || index <= closedUpTo || index != showable
        || calls > 0 || resting || creating || text.length() <= replayedUpTo) {
      return List.of();
    }
    List<Outgoing> out = new ArrayList<>();
    List<String> pieces = OutputRenderer.split(text.toString(), OutputRenderer.MAX_TEXT);
    int finished = text.length() > OutputRenderer.MAX_TEXT ? pieces.size() - 1 : 0;
    while (sentParts.size() < finished) {
      String part = pieces.get(sentParts.size());
      sentParts.add(part);
      if (messageId != null) {
        out.add(new Outgoing.Edit(messageId, part, OutputRenderer.MARKDOWN));
        messageId = null;
      } else {
        out.add(new Outgoing.Text(part, OutputRenderer.MARKDOWN));
      }
      shown = null;
    }
    String tail = pieces.size() > finished ? pieces.get(pieces.size() - 1) : "";
    if (!tail.isBlank() && !tail.equals(shown)) {
      shown = tail;
      if (mode == Mode.DRAFT) {
        out.add(new Outgoing.Draft(draftId(), tail));
      } else if (messageId == null) {
        creating = true;
        out.add(Outgoing.Text.plain(tail));
      } else {
        out.add(new Outgoing.Edit(messageId, tail));
      }
    }
    calls += out.size();
    resting = !out.isEmpty();
    return out;
  }

  /**
   * Non-zero, the same for a job's output and part wherever the task runs: a preview that starts
   * again after a restart animates the same draft.
   */
  private int draftId() {
    int id = 31 * (31 * jobId.hashCode() + Long.hashCode(index)) + sentParts.size();
    return id == 0 ? 1 : id;
  }
}
