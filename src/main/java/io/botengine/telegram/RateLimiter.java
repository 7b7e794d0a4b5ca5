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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.StreamSupport;

/**
 * The bot token's global send rate, shared across the cluster: this node grants {@code rate / N}
 * Bot API calls per second, N being the cluster members that are up (re-read every few seconds),
 * each planned {@code N / rate} seconds after the one before. Timers fire late, about two
 * scheduler ticks (20-24 ms on a 35 ms spacing), so a permit granted late is followed by the next
 * planned one, not by a full spacing after the late one (that paced 28.5/s at about 17/s); the
 * plan may lag the clock by a spacing, or two ticks where a spacing is shorter, before it starts
 * afresh (lagging half a spacing at most, it started afresh on nearly every permit at 30/s and
 * paced 28.5/s at 25.5/s). Where a spacing is at least two ticks (the free 30/s), never two
 * permits go closer than half a spacing (no bursts: a burst delayed in transit would reach
 * Telegram together with the next one); at paid broadcasts' rates, the permits of a tick go
 * together. Chat outboxes ask for a permit before each call: replies to users (commands, prompts,
 * payment answers, errors) go ahead of job outputs, each kind first come, first served, and as
 * every chat waits for one permit at a time, chats take turns. A busy bot therefore sends slower
 * instead of buffering without bound, and the wait reaches the Runner stream through the
 * outboxes' acknowledgements. One per node.
 *
 * <p>Pacing alone cannot keep Telegram's one-second window: calls held up after their permit (a
 * garbage collection, a busy dispatcher, a connection being opened) reach Telegram together with
 * the calls granted after them. So each permit is also held until its call is answered, and counts
 * for one second more: a call reaches Telegram between its permit and its answer, and no permit is
 * granted while the node's share of the bot's rate (its window cap) is held or was answered
 * within the last second. Telegram then never sees more than that share from this node in any one
 * second, whatever the delays on the way; it costs throughput only when Telegram answers slowly
 * (the share per one second and an answer). A permit not returned within {@code heldAtMost} (its
 * holder stopped before calling) counts as answered then.
 */
public final class RateLimiter extends AbstractBehavior<RateLimiter.Command> {

  /** What the limiter is told. */
  public sealed interface Command {}

  /**
   * Ask for one permit; {@code replyTo} hears {@link Permit} when the call may go. A {@code reply}
   * to a user goes ahead of every job output waiting.
   */
  public record Acquire(ActorRef<Permit> replyTo, boolean reply) implements Command {}

  /** Permission for one Bot API call: {@link Release} it once the call is answered or failed. */
  public record Permit(long id) {}

  /** The call made on permit {@code id} has its answer (or has failed). */
  public record Release(long id) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private enum Recount implements Command {
    INSTANCE
  }

  private static final Duration RECOUNT_EVERY = Duration.ofSeconds(5);
  private static final long WINDOW_NANOS = 1_000_000_000L;

  private final TimerScheduler<Command> timers;
  private final LongSupplier clock;
  private final double clusterRate;
  private final double headroom;
  private final long heldAtMostNanos;
  private final long tickNanos;
  private final Deque<ActorRef<Permit>> replies = new ArrayDeque<>();
  private final Deque<ActorRef<Permit>> outputs = new ArrayDeque<>();
  /** Permits granted and not yet released, by id (ids rise, so the oldest comes first). */
  private final Map<Long, Long> held = new LinkedHashMap<>();
  /** When each call of the last second was answered, oldest first. */
  private final Deque<Long> answered = new ArrayDeque<>();
  private long spacingNanos;
  private int windowCap;
  private long nextFreeAt = Long.MIN_VALUE;
  private long lastGrantAt;
  /** How far the plan may lag the clock before it starts afresh from now. */
  private long maxLagNanos;
  /** The least time between two permits: half a spacing, none where that is under a tick. */
  private long minGapNanos;
  private long tickAt = Long.MAX_VALUE;
  private long nextId;

  /**
   * A limiter for {@code clusterRate} calls per second across the cluster, paced {@code headroom}
   * under it; a permit not released within {@code heldAtMost} is taken back.
   */
  public static Behavior<Command> create(double clusterRate, double headroom, Duration heldAtMost) {
    return create(clusterRate, headroom, heldAtMost, System::nanoTime);
  }

  /** The same, reading the time in nanoseconds from {@code clock}. */
  static Behavior<Command> create(
      double clusterRate, double headroom, Duration heldAtMost, LongSupplier clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(
        timers -> new RateLimiter(ctx, timers, clock, clusterRate, headroom, heldAtMost)));
  }

  private RateLimiter(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      LongSupplier clock,
      double rate,
      double headroom,
      Duration heldAtMost) {
    super(ctx);
    this.timers = timers;
    this.clock = clock;
    this.clusterRate = rate;
    this.headroom = headroom;
    this.heldAtMostNanos = heldAtMost.toNanos();
    this.tickNanos =
        ctx.getSystem().settings().config().getDuration("akka.scheduler.tick-duration").toNanos();
    recount();
    timers.startTimerWithFixedDelay(Recount.INSTANCE, RECOUNT_EVERY);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Acquire.class, this::onAcquire)
        .onMessage(Release.class, this::onRelease)
        .onMessageEquals(Tick.INSTANCE, () -> {
          tickAt = Long.MAX_VALUE;
          return grant();
        })
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

  private Behavior<Command> onRelease(Release release) {
    if (held.remove(release.id()) != null) {
      answered.addLast(clock.getAsLong());
    }
    return grant();
  }

  private Behavior<Command> grant() {
    long now = clock.getAsLong();
    ageOut(now);
    while (!replies.isEmpty() || !outputs.isEmpty()) {
      // The timer is set for the plan alone: set for the gap as well, it would fire two ticks
      // after that, and the lag would grow with every permit.
      if (nextFreeAt != Long.MIN_VALUE) {
        if (nextFreeAt > now) {
          return wakeAt(nextFreeAt, now);
        }
        if (lastGrantAt + minGapNanos > now) {
          return wakeAt(lastGrantAt + minGapNanos, now);
        }
      }
      if (held.size() + answered.size() >= windowCap) {
        // A release wakes it too; the timer covers the window moving on and unreturned permits.
        long windowMoves =
            answered.isEmpty() ? Long.MAX_VALUE : answered.peekFirst() + WINDOW_NANOS;
        long takenBack =
            held.isEmpty() ? Long.MAX_VALUE : held.values().iterator().next() + heldAtMostNanos;
        return wakeAt(Math.min(windowMoves, takenBack), now);
      }
      long planned = nextFreeAt == Long.MIN_VALUE ? now : Math.max(nextFreeAt, now - maxLagNanos);
      nextFreeAt = planned + spacingNanos;
      lastGrantAt = now;
      long id = nextId++;
      held.put(id, now);
      (replies.isEmpty() ? outputs : replies).pollFirst().tell(new Permit(id));
    }
    return this;
  }

  /** Drops answers older than a second, and takes back permits held longer than allowed. */
  private void ageOut(long now) {
    while (!answered.isEmpty() && now - answered.peekFirst() >= WINDOW_NANOS) {
      answered.pollFirst();
    }
    for (var it = held.entrySet().iterator(); it.hasNext(); ) {
      var permit = it.next();
      if (now - permit.getValue() < heldAtMostNanos) {
        break;
      }
      it.remove();
      answered.addLast(now);
      getContext().getLog().warn("Bot API permit {} not returned within {} s; taken back",
          permit.getKey(), heldAtMostNanos / 1_000_000_000L);
    }
  }

  private Behavior<Command> wakeAt(long at, long now) {
    if (at < tickAt) {
      tickAt = at;
      timers.startSingleTimer(Tick.INSTANCE, Duration.ofNanos(Math.max(at - now, 1)));
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
    double share = clusterRate / Math.max(1, up);
    double perNode = share * (1 - headroom);
    long spacing = (long) (1e9 / perNode);
    // The node's share of the rate, rounded down (one node: 30 of 30; two: 15; three: 10), but
    // never under the paced share rounded up: from four nodes on, rounding down would cost up to a
    // fifth of the rate (eight: 3 each, 24/s in all), so there a second in which every node sends
    // its most may see a call or two over (four: 8 each, 32).
    windowCap = (int) Math.max(1, Math.max(Math.ceil(perNode), Math.floor(share)));
    if (spacing != spacingNanos) {
      getContext().getLog().info("Bot API rate on this node: {}/s, at most {} in any second"
          + " ({} members up)", String.format("%.1f", perNode), windowCap, up);
      spacingNanos = spacing;
      maxLagNanos = Math.max(spacing, 2 * tickNanos);
      minGapNanos = spacing >= 2 * tickNanos ? spacing / 2 : 0;
    }
  }
}
