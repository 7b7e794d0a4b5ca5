package io.botengine.telegram;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.LongSupplier;
import java.util.stream.StreamSupport;

/**
 * The bot token's global send rate, shared across the cluster: this node grants {@code rate / N}
 * Bot API calls per second, N being the cluster members that are up (re-read every few seconds),
 * each planned {@code N / rate} seconds after the one before. Timers fire a scheduler tick or two
 * late, so a permit granted late is followed by the next planned one, not by a full spacing after
 * the late one (that paced 28.5/s at about 17/s); but never two closer than half a spacing (no
 * bursts: a burst delayed in transit would reach Telegram together with the next one). Chat
 * outboxes ask for a permit before each call: replies to users (commands, prompts, payment answers,
 * errors) go ahead of job outputs, each kind first come, first served, and as every chat waits
 * for one permit at a time, chats take turns. A busy bot therefore sends slower instead of
 * buffering without bound, and the wait reaches the Runner stream through the outboxes'
 * acknowledgements. One per node.
 */
public final class RateLimiter extends AbstractBehavior<RateLimiter.Command> {

  /** What the limiter is told. */
  public sealed interface Command {}

  /**
   * Ask for one permit; {@code replyTo} hears {@link Permit} when the call may go. A {@code reply}
   * to a user goes ahead of every job output waiting.
   */
  public record Acquire(ActorRef<Permit> replyTo, boolean reply) implements Command {}

  /** Permission for one Bot API call. */
  public enum Permit {
    INSTANCE
  }

  private enum Tick implements Command {
    INSTANCE
  }

  private enum Recount implements Command {
    INSTANCE
  }

  private static final Duration RECOUNT_EVERY = Duration.ofSeconds(5);

  private final TimerScheduler<Command> timers;
  private final LongSupplier clock;
  private final double clusterRate;
  private final Deque<ActorRef<Permit>> replies = new ArrayDeque<>();
  private final Deque<ActorRef<Permit>> outputs = new ArrayDeque<>();
  private long spacingNanos;
  private long nextFreeAt = Long.MIN_VALUE;

  /** A limiter for {@code clusterRate} calls per second across the cluster. */
  public static Behavior<Command> create(double clusterRate) {
    return create(clusterRate, System::nanoTime);
  }

  /** The same, reading the time in nanoseconds from {@code clock}. */
  static Behavior<Command> create(double clusterRate, LongSupplier clock) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new RateLimiter(ctx, timers, clock, clusterRate)));
  }

  private RateLimiter(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, LongSupplier clock, double rate) {
    super(ctx);
    this.timers = timers;
    this.clock = clock;
    this.clusterRate = rate;
    recount();
    timers.startTimerWithFixedDelay(Recount.INSTANCE, RECOUNT_EVERY);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Acquire.class, this::onAcquire)
        .onMessageEquals(Tick.INSTANCE, this::grant)
        .onMessageEquals(Recount.INSTANCE, () -> {
          recount();
          return grant();
        })
        .build();
  }

  private Behavior<Command> onAcquire(Acquire acquire) {
    (acquire.reply() ? replies : outputs).addLast(acquire.replyTo());
    return grant();
  }

  private Behavior<Command> grant() {
    long now = clock.getAsLong();
    while (!replies.isEmpty() || !outputs.isEmpty()) {
      if (nextFreeAt != Long.MIN_VALUE && nextFreeAt > now) {
        if (!timers.isTimerActive(Tick.INSTANCE)) {
          timers.startSingleTimer(Tick.INSTANCE, Duration.ofNanos(nextFreeAt - now));
        }
        return this;
      }
      long planned =
          nextFreeAt == Long.MIN_VALUE ? now : Math.max(nextFreeAt, now - spacingNanos / 2);
      nextFreeAt = planned + spacingNanos;
      (replies.isEmpty() ? outputs : replies).pollFirst().tell(Permit.INSTANCE);
    }
    return this;
  }

  /** Re-reads how many members are up and resizes this node's window accordingly. */
  private void recount() {
    long up =
        StreamSupport.stream(
                Cluster.get(getContext().getSystem()).state().getMembers().spliterator(), false)
            .filter(m -> m.status() == MemberStatus.up())
            .count();
    double perNode = clusterRate / Math.max(1, up);
    long spacing = (long) (1e9 / perNode);
    if (spacing != spacingNanos) {
      getContext().getLog().info("Bot API rate on this node: {}/s ({} members up)",
          String.format("%.1f", perNode), up);
      spacingNanos = spacing;
    }
  }
}
