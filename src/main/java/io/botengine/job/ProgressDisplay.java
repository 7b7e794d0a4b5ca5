package io.botengine.job;

import io.botengine.telegram.Outgoing;
import java.util.Optional;

/**
 * A job's status message: created at the first progress frame, then edited to the latest progress,
 * at most once per rest (the task actor's {@code progress-interval} timer, started whenever {@link
 * #resting()} turns true). The task reports its id to the user actor, which deletes it with the
 * job's end. Each method returns what to send now.
 * Not thread-safe: owned by one task actor.
 */
final class ProgressDisplay {
  private Long messageId;
  private boolean creating;
  private boolean resting;
  private String shown;
  private String wanted;

  /**
   * A progress frame arrived. Returns the status message to create (a {@link Outgoing.Text}: its id
   * comes back through {@link #created}) or the {@link Outgoing.Edit} to send, if one is due.
   */
  Optional<Outgoing> progress(RunnerFrame.Progress progress) {
    wanted = text(progress);
    return due();
  }

  /** Telegram created the status message as {@code id}; the display rests before editing it. */
  Optional<Outgoing> created(long id) {
    creating = false;
    messageId = id;
    resting = true;
    return Optional.empty();
  }

  /** The rest after the last change is over: the edit that waited for it, if any. */
  Optional<Outgoing> rested() {
    resting = false;
    return due();
  }

  /** An edit was sent or the message created less than a rest ago. */
  boolean resting() {
    return resting;
  }

  private Optional<Outgoing> due() {
    if (wanted == null || creating || resting || wanted.equals(shown)) {
      return Optional.empty();
    }
    shown = wanted;
    if (messageId == null) {
      creating = true;
      return Optional.of(Outgoing.Text.plain(wanted));
    }
    resting = true;
    return Optional.of(new Outgoing.Edit(messageId, wanted));
  }

  /** "⏳ ▓▓▓░░░░░░░ 30%" and the Runner's text on a second line, if any. */
  static String text(RunnerFrame.Progress p) {
    int filled = Math.round(p.percent() / 10f);
    String bar = "▓".repeat(filled) + "░".repeat(10 - filled);
    String text = p.text() == null || p.text().isBlank() ? "" : "\n" + p.text();
    return "⏳ " + bar + " " + p.percent() + "%" + text;
  }
}
