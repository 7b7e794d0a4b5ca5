package io.botengine.telegram;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The ordered outbox of one chat: messages leave strictly one after another, in the order they
 * were queued, and a failing message is retried (or given up) before the next one goes. A 429 waits
 * {@code retry_after}; rejected markup is resent as plain text; network errors and 5xx are retried
 * with backoff; other 4xx are dropped. Each message's sender is told when it is done with it.
 * Lives as a child of the user actor and dies with it.
 */
public final class ChatOutbox extends AbstractBehavior<ChatOutbox.Command> {

  /** Messages the outbox understands. */
  public sealed interface Command {}

  /** Queue a message; {@code ackTo} (nullable) hears Done once it was sent or given up. */
  public record Send(Outgoing message, String jobId, ActorRef<Done> ackTo) implements Command {
    public static Send of(Outgoing message) {
      return new Send(message, null, null);
    }
  }

  /** Forget every queued message of this job and refuse any that comes later. */
  public record DropJob(String jobId) implements Command {}

  private record Delivered(long messageId) implements Command {}

  private record NotDelivered(Throwable error) implements Command {}

  private enum Retry implements Command {
    INSTANCE
  }

  static final int MAX_ATTEMPTS = 6;
  private static final int DROPPED_KEPT = 16;
  private static final Duration MIN_BACKOFF = Duration.ofMillis(500);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(20);

  private final long chatId;
  private final TelegramGateway gateway;
  private final TimerScheduler<Command> timers;
  private final Deque<Send> queue = new ArrayDeque<>();
  private final Set<String> dropped = new LinkedHashSet<>();
  private Send inFlight;
  private int attempts;

  public static Behavior<Command> create(long chatId, TelegramGateway gateway) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new ChatOutbox(ctx, chatId, gateway, timers)));
  }

  private ChatOutbox(
      ActorContext<Command> context,
      long chatId,
      TelegramGateway gateway,
      TimerScheduler<Command> timers) {
    super(context);
    this.chatId = chatId;
    this.gateway = gateway;
    this.timers = timers;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Send.class, this::onSend)
        .onMessage(DropJob.class, this::onDropJob)
        .onMessage(Delivered.class, this::onDelivered)
        .onMessage(NotDelivered.class, this::onNotDelivered)
        .onMessageEquals(Retry.INSTANCE, this::attempt)
        .build();
  }

  private Behavior<Command> onSend(Send send) {
    if (send.jobId() != null && dropped.contains(send.jobId())) {
      ack(send);
      return this;
    }
    queue.addLast(send);
    return inFlight == null ? next() : this;
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

  private Behavior<Command> next() {
    inFlight = queue.pollFirst();
    attempts = 0;
    return inFlight == null ? this : attempt();
  }

  private Behavior<Command> attempt() {
    attempts++;
    getContext()
        .pipeToSelf(
            gateway.send(chatId, inFlight.message()),
            (id, error) -> error == null ? new Delivered(id) : new NotDelivered(unwrap(error)));
    return this;
  }

  private Behavior<Command> onDelivered(Delivered delivered) {
    finish();
    return next();
  }

  private Behavior<Command> onNotDelivered(NotDelivered failed) {
    TelegramGateway.Failure f =
        failed.error() instanceof TelegramGateway.Failure tf
            ? tf
            : new TelegramGateway.Failure(0, String.valueOf(failed.error()), null);
    if (f.markupRejected() && inFlight.message() instanceof Outgoing.Text text
        && text.parseMode() != null) {
      getContext().getLog().info("chat {}: markup rejected, resending as plain text", chatId);
      inFlight = new Send(Outgoing.Text.plain(text.text()), inFlight.jobId(), inFlight.ackTo());
      return attempt();
    }
    boolean retryable = f.code == 429 || f.code == 0 || f.code >= 500;
    if (retryable && attempts < MAX_ATTEMPTS) {
      Duration wait =
          f.code == 429 && f.retryAfterSeconds != null
              ? Duration.ofSeconds(f.retryAfterSeconds)
              : backoff(attempts);
      getContext()
          .getLog()
          .info("chat {}: send failed ({} {}), retry in {}", chatId, f.code, f.getMessage(), wait);
      timers.startSingleTimer(Retry.INSTANCE, wait);
      return this;
    }
    getContext()
        .getLog()
        .warn("chat {}: giving up a message after {} attempts: {} {}", chatId, attempts, f.code,
            f.getMessage());
    finish();
    return next();
  }

  private void finish() {
    ack(inFlight);
    inFlight = null;
  }

  private static void ack(Send send) {
    if (send.ackTo() != null) {
      send.ackTo().tell(Done.getInstance());
    }
  }

  private static Duration backoff(int attempt) {
    long millis = MIN_BACKOFF.toMillis() << Math.min(attempt - 1, 10);
    return Duration.ofMillis(Math.min(millis, MAX_BACKOFF.toMillis()));
  }

  private static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
