package io.botengine.telegram;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import io.botengine.Backoff;
import io.botengine.Failures;
import io.botengine.Metrics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The ordered outbox of one chat. Messages leave strictly one after another in the order they
 * were queued; a failing message is retried or given up before the next one goes, so nothing
 * overtakes it ("typing" is no message: it goes right after the call in flight, once). Each call waits for the chat's own rate (a token bucket) and for a permit of the
 * node's {@link RateLimiter}. A 429 waits {@code retry_after} and resends (never given up);
 * rejected markup is resent as plain text; 5xx and network errors are retried with backoff and
 * then given up, with one notice to the user; any other 4xx means the chat cannot be reached
 * (bot blocked, chat gone): everything for it is dropped until {@link Resume}, and the owner is
 * told once. Each sender hears when its message is done. A notice equal to one still queued is not
 * queued again. Lives as a child of the user actor.
 */
public final class ChatOutbox extends AbstractBehavior<ChatOutbox.Command> {

  /** Messages the outbox understands. */
  public sealed interface Command {}

  /**
   * Queue a call. {@code ackTo} (nullable) hears Done once it was sent or given up; {@code idTo}
   * (nullable) hears the message id Telegram gave it (0 for a draft), or {@link #NOT_SENT} when it
   * was given up, refused or dropped, or {@link #DRAFTS_REFUSED} when Telegram refused a {@link
   * Outgoing.Draft} for this chat (a group, or a Bot API without drafts).
   */
  public record Send(
      Outgoing message, String jobId, ActorRef<Done> ackTo, ActorRef<Long> idTo, boolean notice)
      implements Command {
    public Send(Outgoing message, String jobId, ActorRef<Done> ackTo, ActorRef<Long> idTo) {
      this(message, jobId, ackTo, idTo, false);
    }

    public Send(Outgoing message, String jobId, ActorRef<Done> ackTo) {
      this(message, jobId, ackTo, null, false);
    }

    public static Send of(Outgoing message) {
      return new Send(message, null, null, null, false);
    }

    /**
     * A notice that says nothing new when repeated ("still running", "please send the file"): not
     * queued again while an equal one still waits.
     */
    public static Send notice(Outgoing message) {
      return new Send(message, null, null, null, true);
    }
  }

  /** What {@link Send#idTo} hears for a call that was not sent. */
  public static final long NOT_SENT = -1;

  /** What {@link Send#idTo} hears for a draft Telegram refused: the chat cannot have drafts. */
  public static final long DRAFTS_REFUSED = -2;

  /** Forget every queued message of this job and refuse any that comes later. */
  public record DropJob(String jobId) implements Command {}

  /** The user wrote again: the chat can be reached. */
  public enum Resume implements Command {
    INSTANCE
  }

  /**
   * The owner is about to stop (hand-over to another node, passivation): {@code replyTo} hears
   * {@link Drained} once nothing is queued or in flight any more.
   */
  public record Drain(ActorRef<Drained> replyTo) implements Command {}

  /** The answer to {@link Drain}. */
  public enum Drained {
    INSTANCE
  }

  /** Told to the owner once when the chat cannot be reached; {@code reason} is Telegram's. */
  public record Unreachable(long chatId, int code, String reason) {}

  /** What every outbox of a node shares. */
  public record Deps(
      TelegramGateway gateway,
      ActorRef<RateLimiter.Command> limiter,
      double chatRate,
      int chatBurst,
      int maxAttempts,
      Duration minBackoff,
      Duration maxBackoff,
      String failureNotice) {
    /** The same, telling users {@code notice} when a message had to be given up. */
    public Deps withFailureNotice(String notice) {
      return new Deps(gateway, limiter, chatRate, chatBurst, maxAttempts, minBackoff, maxBackoff,
          notice);
    }

    /** The wait before resending after a 5xx or network error. */
    public Backoff backoff() {
      return Backoff.of(minBackoff, maxBackoff);
    }
  }

  private record Delivered(long messageId) implements Command {}

  private record NotDelivered(Throwable error) implements Command {}

  private record Permitted(RateLimiter.Permit permit) implements Command {}

  private enum Retry implements Command {
    INSTANCE
  }

  private enum ChatToken implements Command {
    INSTANCE
  }

  private static final int DROPPED_KEPT = 16;

  private final long chatId;
  private final Deps deps;
  private final ActorRef<Unreachable> owner;
  private final TimerScheduler<Command> timers;
  private final ActorRef<RateLimiter.Permit> permits;
  private final Deque<Send> queue = new ArrayDeque<>();
  private final Runnable untrackQueue = Metrics.get(getContext().getSystem()).trackQueue(queue);
  private final Set<String> dropped = new LinkedHashSet<>();
  private final List<ActorRef<Drained>> drainers = new ArrayList<>();
  private Send inFlight;
  private int attempts;
  private boolean unreachable;
  private boolean noticeSent;
  private double chatTokens;
  private long refilledAt = System.nanoTime();

  public static Behavior<Command> create(long chatId, Deps deps, ActorRef<Unreachable> owner) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new ChatOutbox(ctx, chatId, deps, owner, timers)));
  }

  private ChatOutbox(
      ActorContext<Command> context,
      long chatId,
      Deps deps,
      ActorRef<Unreachable> owner,
      TimerScheduler<Command> timers) {
    super(context);
    this.chatId = chatId;
    this.deps = deps;
    this.owner = owner;
    this.timers = timers;
    this.chatTokens = Math.max(1, deps.chatBurst());
    this.permits = context.messageAdapter(RateLimiter.Permit.class, Permitted::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Send.class, this::onSend)
        .onMessage(DropJob.class, this::onDropJob)
        .onMessageEquals(Resume.INSTANCE, this::onResume)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Delivered.class, this::onDelivered)
        .onMessage(NotDelivered.class, this::onNotDelivered)
        .onMessage(Permitted.class, p -> send(p.permit()))
        .onMessageEquals(Retry.INSTANCE, this::attempt)
        .onMessageEquals(ChatToken.INSTANCE, this::attempt)
        .onSignal(PostStop.class, stop -> { untrackQueue.run(); return this; })
        .build();
  }

  private Behavior<Command> onSend(Send send) {
    if (unreachable || send.jobId() != null && dropped.contains(send.jobId())) {
      ack(send);
      return this;
    }
    if (isRepeatedNotice(send)) {
      getContext().getLog().debug("chat {}: the same notice is already queued; not queued again",
          chatId);
      return this;
    }
    if (send.message() instanceof Outgoing.Typing) {
      boolean queued = !queue.isEmpty() && queue.peekFirst().message() instanceof Outgoing.Typing;
      if (!queued) {
        queue.addFirst(send);
      }
    } else {
      queue.addLast(send);
    }
    return inFlight == null ? next() : this;
  }

  /**
   * A notice equal to one still waiting in the queue (a user sending many documents during a job
   * is told "still running" once per queued notice, not once per document).
   */
  private boolean isRepeatedNotice(Send send) {
    if (!send.notice()) {
      return false;
    }
    for (Send queued : queue) {
      if (queued.notice() && queued.message().equals(send.message())) {
        return true;
      }
    }
    return false;
  }

  private Behavior<Command> onDropJob(DropJob drop) {
    dropped.add(drop.jobId());
    if (dropped.size() > DROPPED_KEPT) {
      dropped.remove(dropped.iterator().next());
    }
    queue.removeIf(
        s -> {
          boolean of = drop.jobId().equals(s.jobId());
          if (of) {
            ack(s);
          }
          return of;
        });
    return this;
  }

  private Behavior<Command> onResume() {
    if (unreachable) {
      getContext().getLog().info("chat {}: reachable again", chatId);
    }
    unreachable = false;
    return this;
  }

  private Behavior<Command> onDrain(Drain drain) {
    drainers.add(drain.replyTo());
    return inFlight == null ? next() : this;
  }

  private Behavior<Command> next() {
    inFlight = queue.pollFirst();
    attempts = 0;
    if (inFlight == null) {
      drainers.forEach(d -> d.tell(Drained.INSTANCE));
      drainers.clear();
      return this;
    }
    return attempt();
  }

  /** Waits for the chat's rate, then for the node's permit, then sends. */
  private Behavior<Command> attempt() {
    if (deps.chatRate() > 0) {
      long now = System.nanoTime();
      chatTokens =
          Math.min(Math.max(1, deps.chatBurst()),
              chatTokens + (now - refilledAt) / 1e9 * deps.chatRate());
      refilledAt = now;
      if (chatTokens < 1) {
        long waitNanos = (long) ((1 - chatTokens) / deps.chatRate() * 1e9);
        timers.startSingleTimer(ChatToken.INSTANCE, Duration.ofNanos(Math.max(waitNanos, 1)));
        return this;
      }
      chatTokens -= 1;
    }
    if (deps.limiter() != null) {
      boolean reply = inFlight.jobId() == null && !(inFlight.message() instanceof Outgoing.Typing);
      deps.limiter().tell(new RateLimiter.Acquire(permits, reply));
      return this;
    }
    return send(null);
  }

  /**
   * Makes the call; the limiter's {@code permit} (null without a limiter) goes back when the call
   * ends, even if this outbox has stopped by then (the client ends every call within its read
   * timeout).
   */
  private Behavior<Command> send(RateLimiter.Permit permit) {
    attempts++;
    CompletionStage<Long> call = deps.gateway().send(chatId, inFlight.message());
    if (permit != null) {
      ActorRef<RateLimiter.Command> limiter = deps.limiter();
      call.whenComplete((id, error) -> limiter.tell(new RateLimiter.Release(permit.id())));
    }
    getContext()
        .pipeToSelf(
            call,
            (id, error) ->
                error == null
                    ? new Delivered(id)
                    : new NotDelivered(Failures.cause(error)));
    return this;
  }

  private Behavior<Command> onDelivered(Delivered delivered) {
    noticeSent = false;
    finish(delivered.messageId());
    return next();
  }

  private Behavior<Command> onNotDelivered(NotDelivered failed) {
    TelegramGateway.Failure f =
        failed.error() instanceof TelegramGateway.Failure tf
            ? tf
            : new TelegramGateway.Failure(0, String.valueOf(failed.error()), null);
    Outgoing message = inFlight.message();
    if (message instanceof Outgoing.Typing) {
      finish();
      return next();
    }
    if (f.markupRejected() && message instanceof Outgoing.Text text && text.parseMode() != null) {
      getContext().getLog().info("chat {}: markup rejected, resending as plain text", chatId);
      inFlight = new Send(Outgoing.Text.plain(text.text()), inFlight.jobId(), inFlight.ackTo(),
          inFlight.idTo());
      return attempt();
    }
    if (f.markupRejected() && message instanceof Outgoing.Edit edit && edit.parseMode() != null) {
      getContext().getLog().info("chat {}: markup rejected, editing as plain text", chatId);
      inFlight = new Send(new Outgoing.Edit(edit.messageId(), edit.text()), inFlight.jobId(),
          inFlight.ackTo(), inFlight.idTo());
      return attempt();
    }
    if (f.code == 429) {
      Duration wait = Duration.ofSeconds(f.retryAfterSeconds == null ? 1 : f.retryAfterSeconds);
      getContext().getLog().info("chat {}: 429, resending in {}", chatId, wait);
      timers.startSingleTimer(Retry.INSTANCE, wait);
      return this;
    }
    if (message instanceof Outgoing.Draft && !isUnreachable(f)) {
      return onDraftFailed(f);
    }
    boolean transient_ = f.code == 0 || f.code >= 500;
    if (transient_ && attempts < deps.maxAttempts()) {
      Duration wait = deps.backoff().delay(attempts - 1);
      getContext().getLog().info("chat {}: send failed ({} {}), retry in {}", chatId, f.code,
          f.getMessage(), wait);
      timers.startSingleTimer(Retry.INSTANCE, wait);
      return this;
    }
    if (transient_) {
      return giveUp(f);
    }
    if (isUnreachable(f)) {
      return becomeUnreachable(f);
    }
    getContext().getLog().warn("chat {}: Telegram refused a {} ({} {}); skipped", chatId,
        message.getClass().getSimpleName(), f.code, f.getMessage());
    finish();
    return next();
  }

  /**
   * A draft is a preview: never retried, never worth a notice. A 400 other than unreachable (e.g.
   * {@code TEXTDRAFT_PEER_INVALID} in a group) or a 404 (a Bot API without the method) means this
   * chat cannot have drafts, which the sender hears.
   */
  private Behavior<Command> onDraftFailed(TelegramGateway.Failure f) {
    boolean refused = f.code == 400 || f.code == 404;
    getContext().getLog().info("chat {}: draft {} ({} {})", chatId,
        refused ? "refused" : "not shown", f.code, f.getMessage());
    finish(refused ? DRAFTS_REFUSED : NOT_SENT);
    return next();
  }

  private Behavior<Command> giveUp(TelegramGateway.Failure f) {
    getContext().getLog().warn("chat {}: giving up a message after {} attempts: {} {}", chatId,
        attempts, f.code, f.getMessage());
    finish();
    if (!noticeSent && deps.failureNotice() != null) {
      noticeSent = true;
      queue.addFirst(Send.of(Outgoing.Text.plain(deps.failureNotice())));
    }
    return next();
  }

  private static boolean isUnreachable(TelegramGateway.Failure f) {
    if (f.code == 403) {
      return true;
    }
    String d = f.getMessage() == null ? "" : f.getMessage().toLowerCase();
    return f.code == 400 && (d.contains("chat not found") || d.contains("user is deactivated")
        || d.contains("bot was blocked") || d.contains("peer_id_invalid"));
  }

  private Behavior<Command> becomeUnreachable(TelegramGateway.Failure f) {
    getContext().getLog().warn("chat {}: cannot be reached ({} {}); holding all messages back",
        chatId, f.code, f.getMessage());
    unreachable = true;
    finish();
    Send queued;
    while ((queued = queue.pollFirst()) != null) {
      ack(queued);
    }
    if (owner != null) {
      owner.tell(new Unreachable(chatId, f.code, f.getMessage()));
    }
    return this;
  }

  private void finish() {
    finish(NOT_SENT);
  }

  private void finish(long messageId) {
    done(inFlight, messageId);
    inFlight = null;
  }

  private static void ack(Send send) {
    done(send, NOT_SENT);
  }

  private static void done(Send send, long messageId) {
    if (send.idTo() != null) {
      send.idTo().tell(messageId);
    }
    if (send.ackTo() != null) {
      send.ackTo().tell(Done.getInstance());
    }
  }

}
