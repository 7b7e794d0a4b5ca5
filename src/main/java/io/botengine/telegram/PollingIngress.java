package io.botengine.telegram;

import akka.Done;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import io.botengine.Backoff;
import io.botengine.EngineSettings;
import io.botengine.Failures;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.telegram.telegrambots.meta.api.objects.Update;

/**
 * The one getUpdates consumer of the bot token (run as a Cluster Singleton). It fetches a batch,
 * hands every update to its user's actor, and asks for the next batch only after all were
 * accepted: the offset that confirms updates to Telegram is never ahead of what the engine has
 * persisted. A failed batch is read again; user actors drop updates they already handled.
 */
public final class PollingIngress {

  /** Messages of the polling loop; all internal. */
  public sealed interface Command {}

  private record Poll(long offset) implements Command {}

  private record Polled(long offset, List<Update> updates) implements Command {}

  private record Accepted(long nextOffset) implements Command {}

  private record Failed(long offset, String what, Throwable error) implements Command {}

  private record WebhookRemoved() implements Command {}

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
  private final EngineSettings.Telegram settings;
  private final Backoff backoff;
  private int failures;

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
    this.settings = settings;
    this.backoff = Backoff.of(settings.pollMinBackoff(), settings.pollMaxBackoff());
  }

  private Behavior<Command> starting() {
    ctx.pipeToSelf(
        api.deleteWebhook(),
        (ok, error) -> error == null ? new WebhookRemoved() : new Failed(0, "deleteWebhook", error));
    return Behaviors.receive(Command.class)
        .onMessage(WebhookRemoved.class, m -> {
          ctx.getLog().info("long polling started");
          ctx.getSelf().tell(new Poll(0));
          return polling();
        })
        .onMessage(Failed.class, this::onStartFailed)
        .onMessage(Poll.class, m -> starting())
        .build();
  }

  private Behavior<Command> onStartFailed(Failed failed) {
    Duration wait = backoff();
    ctx.getLog().warn("deleteWebhook failed ({}), retrying in {}", Failures.describe(failed.error()), wait);
    timers.startSingleTimer(new Poll(0), wait);
    return Behaviors.receive(Command.class)
        .onMessage(Poll.class, m -> starting())
        .build();
  }

  private Behavior<Command> polling() {
    return Behaviors.receive(Command.class)
        .onMessage(Poll.class, this::onPoll)
        .onMessage(Polled.class, this::onPolled)
        .onMessage(Accepted.class, this::onAccepted)
        .onMessage(Failed.class, this::onFailed)
        .build();
  }

  private Behavior<Command> onPoll(Poll poll) {
    ctx.pipeToSelf(
        api.getUpdates(poll.offset()),
        (updates, error) ->
            error == null
                ? new Polled(poll.offset(), updates)
                : new Failed(poll.offset(), "getUpdates", error));
    return Behaviors.same();
  }

  private Behavior<Command> onPolled(Polled polled) {
    failures = 0;
    if (polled.updates().isEmpty()) {
      ctx.getSelf().tell(new Poll(polled.offset()));
      return Behaviors.same();
    }
    long next = polled.offset();
    CompletableFuture<?>[] accepted = new CompletableFuture<?>[polled.updates().size()];
    int i = 0;
    for (Update update : polled.updates()) {
      next = Math.max(next, update.getUpdateId() + 1L);
      accepted[i++] =
          Updates.toInbound(update)
              .map(users::deliver)
              .orElse(CompletableFuture.completedFuture(Done.getInstance()))
              .toCompletableFuture();
    }
    long nextOffset = next;
    ctx.pipeToSelf(
        CompletableFuture.allOf(accepted),
        (ok, error) ->
            error == null
                ? new Accepted(nextOffset)
                : new Failed(polled.offset(), "delivery to user actors", error));
    ctx.getLog().debug("{} updates handed to user actors", polled.updates().size());
    return Behaviors.same();
  }

  private Behavior<Command> onAccepted(Accepted accepted) {
    ctx.getSelf().tell(new Poll(accepted.nextOffset()));
    return Behaviors.same();
  }

  private Behavior<Command> onFailed(Failed failed) {
    Duration wait = backoff();
    ctx.getLog().warn("{} failed ({}); reading from offset {} again in {}", failed.what(),
        Failures.describe(failed.error()), failed.offset(), wait);
    timers.startSingleTimer(new Poll(failed.offset()), wait);
    return Behaviors.same();
  }

  private Duration backoff() {
    return backoff.delay(failures++);
  }
}
