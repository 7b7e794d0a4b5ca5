package io.botengine.telegram;

import akka.actor.DeadLetterSuppression;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import io.botengine.Backoff;
import io.botengine.EngineSettings;
import io.botengine.Failures;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import org.telegram.telegrambots.meta.api.objects.Update;

/**
 * The one getUpdates consumer of the bot token (run as a Cluster Singleton). It hands every update
 * to its user's actor and keeps reading: one user whose actor is slow (a node just died, a file
 * download stalled) holds up only that user's later updates, never the others'. Each user's
 * updates go to the actor one at a time, in order; one that fails is handed over again after a
 * backoff, before that user's next. The offset that confirms updates to Telegram stops at the
 * first update not yet accepted, so it is never ahead of what the engine has persisted; updates
 * read again because of that are recognised and skipped (user actors also drop what they handled).
 */
public final class PollingIngress {

  /** Messages of the polling loop; all internal. */
  public sealed interface Command {}

  private record Poll() implements Command {}

  /** A poll's outcome is told to this actor, and dropped quietly if the actor has stopped. */
  private record Polled(List<Update> updates) implements Command, DeadLetterSuppression {}

  private record PollFailed(String what, Throwable error)
      implements Command, DeadLetterSuppression {}

  private record Handled(long userId, long updateId, Throwable error) implements Command {}

  private record Retry(long userId) implements Command {}

  private record WebhookRemoved() implements Command {}

  /**
   * How long to wait before reading again while some updates are still being handled: the read
   * confirms what was accepted meanwhile and brings other users' new updates.
   */
  static final Duration BUSY_PAUSE = Duration.ofMillis(200);

  /** The functions the loop needs from the Bot API. */
  public interface Source {
    CompletionStage<List<Update>> getUpdates(long offset);

    CompletionStage<Boolean> deleteWebhook();
  }

  public static Behavior<Command> create(
      Source api, UserDirectory users, EngineSettings.Telegram settings) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new PollingIngress(ctx, timers, api, users, settings).starting()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Source api;
  private final UserDirectory users;
  private final Backoff backoff;
  private int pollFailures;
  /** Updates read and not yet accepted by their user's actor. */
  private final TreeSet<Long> open = new TreeSet<>();
  /** Updates accepted at or after the confirmed offset: skipped when read again. */
  private final Set<Long> accepted = new HashSet<>();
  /** Each user's updates waiting for the actor, the head being handed over. */
  private final Map<Long, Deque<Inbound>> queues = new HashMap<>();
  private final Map<Long, Integer> userFailures = new HashMap<>();
  private long nextToRead;
  private boolean reading;

  private PollingIngress(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Source api,
      UserDirectory users,
      EngineSettings.Telegram settings) {
    this.ctx = ctx;
    this.timers = timers;
    this.api = api;
    this.users = users;
    this.backoff = Backoff.of(settings.pollMinBackoff(), settings.pollMaxBackoff());
  }

  private Behavior<Command> starting() {
    ctx.pipeToSelf(
        api.deleteWebhook(),
        (ok, error) -> error == null ? new WebhookRemoved() : new PollFailed("deleteWebhook", error));
    return Behaviors.receive(Command.class)
        .onMessage(WebhookRemoved.class, m -> {
          ctx.getLog().info("long polling started");
          ctx.getSelf().tell(new Poll());
          return polling();
        })
        .onMessage(PollFailed.class, this::onStartFailed)
        .onMessage(Poll.class, m -> starting())
        .build();
  }

  private Behavior<Command> onStartFailed(PollFailed failed) {
    Duration wait = backoff.delay(pollFailures++);
    ctx.getLog().warn("deleteWebhook failed ({}), retrying in {}",
        Failures.describe(failed.error()), wait);
    timers.startSingleTimer(new Poll(), wait);
    return Behaviors.receive(Command.class)
        .onMessage(Poll.class, m -> starting())
        .build();
  }

  private Behavior<Command> polling() {
    return Behaviors.receive(Command.class)
        .onMessage(Poll.class, m -> onPoll())
        .onMessage(Polled.class, this::onPolled)
        .onMessage(PollFailed.class, this::onPollFailed)
        .onMessage(Handled.class, this::onHandled)
        .onMessage(Retry.class, r -> handOver(r.userId()))
        .build();
  }

  /** The offset that confirms to Telegram every update before it: the first one not accepted. */
  private long confirmed() {
    return open.isEmpty() ? nextToRead : open.first();
  }

  private Behavior<Command> onPoll() {
    if (reading) {
      return Behaviors.same();
    }
    reading = true;
    // Told rather than piped: a poll cut as the node stops answers an actor already stopped, and
    // its failure must not be logged as a dead letter (both outcomes suppress that).
    ActorRef<Command> self = ctx.getSelf();
    api.getUpdates(confirmed()).whenComplete((updates, error) -> self.tell(
        error == null ? new Polled(updates) : new PollFailed("getUpdates", error)));
    return Behaviors.same();
  }

  private Behavior<Command> onPolled(Polled polled) {
    reading = false;
    pollFailures = 0;
    long floor = confirmed();
    accepted.removeIf(id -> id < floor);
    int fresh = 0;
    for (Update update : polled.updates()) {
      long id = update.getUpdateId();
      nextToRead = Math.max(nextToRead, id + 1L);
      if (id < floor || open.contains(id) || accepted.contains(id)) {
        continue;
      }
      fresh++;
      Optional<Inbound> inbound = Updates.toInbound(update);
      if (inbound.isEmpty()) {
        accepted.add(id);
        continue;
      }
      open.add(id);
      Deque<Inbound> queue = queues.computeIfAbsent(inbound.get().userId(), u -> new ArrayDeque<>());
      queue.addLast(inbound.get());
      if (queue.size() == 1) {
        handOver(inbound.get().userId());
      }
    }
    if (fresh > 0) {
      ctx.getLog().debug("{} updates handed to user actors, {} not yet accepted", fresh,
          open.size());
    }
    if (polled.updates().isEmpty() || open.isEmpty()) {
      ctx.getSelf().tell(new Poll());
    } else {
      timers.startSingleTimer(new Poll(), BUSY_PAUSE);
    }
    return Behaviors.same();
  }

  /** Hands the user's first waiting update to its actor. */
  private Behavior<Command> handOver(long userId) {
    Deque<Inbound> queue = queues.get(userId);
    if (queue == null || queue.isEmpty()) {
      return Behaviors.same();
    }
    Inbound head = queue.peekFirst();
    ctx.pipeToSelf(users.deliver(head),
        (ok, error) -> new Handled(userId, head.updateId(), error));
    return Behaviors.same();
  }

  private Behavior<Command> onHandled(Handled handled) {
    long userId = handled.userId();
    if (handled.error() != null) {
      int failures = userFailures.merge(userId, 1, Integer::sum);
      Duration wait = backoff.delay(failures - 1);
      ctx.getLog().warn("update {} of user {} was not accepted ({}); handing it over again in {},"
          + " the user's later updates wait", handled.updateId(), userId,
          Failures.describe(handled.error()), wait);
      timers.startSingleTimer(new Retry(userId), wait);
      return Behaviors.same();
    }
    userFailures.remove(userId);
    open.remove(handled.updateId());
    accepted.add(handled.updateId());
    Deque<Inbound> queue = queues.get(userId);
    queue.pollFirst();
    if (queue.isEmpty()) {
      queues.remove(userId);
    } else {
      handOver(userId);
    }
    if (open.isEmpty() && !reading) {
      timers.cancel(new Poll());
      ctx.getSelf().tell(new Poll());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onPollFailed(PollFailed failed) {
    reading = false;
    Duration wait = backoff.delay(pollFailures++);
    ctx.getLog().warn("{} failed ({}); reading from offset {} again in {}", failed.what(),
        Failures.describe(failed.error()), confirmed(), wait);
    timers.startSingleTimer(new Poll(), wait);
    return Behaviors.same();
  }
}
