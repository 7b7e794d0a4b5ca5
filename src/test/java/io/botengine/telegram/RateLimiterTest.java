package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Replies to users go ahead of job outputs waiting for the bot-wide rate; permits keep to the
 * planned pace when the limiter's timer fires late, but never come closer than half a spacing; and
 * calls held up after their permits never let more than the rate reach Telegram in one second.
 */
class RateLimiterTest {
  private static final com.typesafe.config.Config CLUSTER = ConfigFactory.parseString(
      "akka.actor.provider = cluster, akka.remote.artery.canonical.port = 0")
      .withFallback(ConfigFactory.load("application-test.conf"));
  private static final ActorTestKit testKit = ActorTestKit.create(CLUSTER);
  /** Timers fire when the test says; the limiter reads {@link #clock}, set by the test. */
  private static final ActorTestKit manualKit =
      ActorTestKit.create(ManualTime.config().withFallback(CLUSTER));
  private static final ManualTime manualTime = ManualTime.get(manualKit.system());
  private static final Duration SPACING = Duration.ofMillis(50);
  private static final Duration HELD_AT_MOST = Duration.ofSeconds(60);

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    manualKit.shutdownTestKit();
  }

  /**
   * The limiter's clock reads {@code clockMillis} while its timers run for {@code passes}: the two
   * differ where a test makes a timer fire late.
   */
  private static void timersRun(AtomicLong clock, long clockMillis, Duration passes) {
    clock.set(Duration.ofMillis(clockMillis).toNanos());
    manualTime.timePasses(passes);
  }

  /** A limiter of 20 permits/s (50 ms apart) on the manual clock, and three outputs waiting. */
  private static TestProbe<RateLimiter.Permit> threeWaitingOn(AtomicLong clock) {
    var limiter = manualKit.spawn(RateLimiter.create(20, 0, HELD_AT_MOST, clock::get));
    TestProbe<RateLimiter.Permit> permits = manualKit.createTestProbe();
    for (int i = 0; i < 3; i++) {
      limiter.tell(new RateLimiter.Acquire(permits.ref(), false));
    }
    permits.expectMessageClass(RateLimiter.Permit.class);
    permits.expectNoMessage(Duration.ofMillis(100));
    return permits;
  }

  @Test
  void keepsThePlannedPaceWhenItsTimerFiresLate() {
    AtomicLong clock = new AtomicLong();
    TestProbe<RateLimiter.Permit> permits = threeWaitingOn(clock);

    timersRun(clock, 70, SPACING);
    permits.expectMessageClass(RateLimiter.Permit.class);

    // planned at 100 ms: 50 ms after the one planned at 50 ms, though that came at 70 ms
    timersRun(clock, 100, Duration.ofMillis(30));
    permits.expectMessageClass(RateLimiter.Permit.class);
  }

  @Test
  void keepsThePlannedPaceWhenEveryTimerFiresMoreThanHalfASpacingLate() {
    AtomicLong clock = new AtomicLong();
    TestProbe<RateLimiter.Permit> permits = threeWaitingOn(clock);

    // Akka's timers fire about two ticks late, which at 30/s is more than half a spacing: each
    // permit 30 ms after its plan here. The plan stays (50, 100, 150 ms), so the timer is set
    // 20 ms after each permit, not a full spacing: the pace is the planned one.
    timersRun(clock, 80, SPACING);
    permits.expectMessageClass(RateLimiter.Permit.class);
    timersRun(clock, 130, Duration.ofMillis(20));
    permits.expectMessageClass(RateLimiter.Permit.class);
  }

  @Test
  void neverGrantsTwoPermitsCloserThanHalfASpacing() {
    AtomicLong clock = new AtomicLong();
    TestProbe<RateLimiter.Permit> permits = threeWaitingOn(clock);

    timersRun(clock, 150, SPACING);
    permits.expectMessageClass(RateLimiter.Permit.class);

    // planned at 100 ms, but the last one came at 150 ms: not before 175 ms
    timersRun(clock, 174, Duration.ofMillis(24));
    permits.expectNoMessage(Duration.ofMillis(100));
    timersRun(clock, 175, Duration.ofMillis(1));
    permits.expectMessageClass(RateLimiter.Permit.class);
  }

  /** Tags each permit the limiter grants to it, so one probe sees the order. */
  private static ActorRef<RateLimiter.Permit> tagged(String tag, TestProbe<String> order) {
    return testKit.spawn(Behaviors.receiveMessage(permit -> {
      order.ref().tell(tag);
      return Behaviors.same();
    }));
  }

  @Test
  void grantsRepliesAheadOfWaitingJobOutputs() {
    var limiter = testKit.spawn(RateLimiter.create(20, 0, HELD_AT_MOST));
    TestProbe<String> order = testKit.createTestProbe();
    for (int i = 1; i <= 4; i++) {
      limiter.tell(new RateLimiter.Acquire(tagged("output " + i, order), false));
    }
    limiter.tell(new RateLimiter.Acquire(tagged("reply", order), true));
    List<String> granted = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      granted.add(order.receiveMessage(Duration.ofSeconds(3)));
    }
    assertEquals(List.of("output 1", "reply", "output 2", "output 3", "output 4"), granted);
  }

  /** Lets the limiter's timers run up to {@code millis} on the clock it reads. */
  private static void advanceTo(AtomicLong clock, long millis) {
    timersRun(clock, millis, Duration.ofMillis(millis - Duration.ofNanos(clock.get()).toMillis()));
  }

  @Test
  void grantsNoMoreThanTheRateInOneSecondWhenCallsAreHeldUpAfterTheirPermits() {
    AtomicLong clock = new AtomicLong();
    // 4 per second: a permit every 250 ms, at most 4 held or answered within a second
    var limiter = manualKit.spawn(RateLimiter.create(4, 0, HELD_AT_MOST, clock::get));
    TestProbe<RateLimiter.Permit> permits = manualKit.createTestProbe();
    for (int i = 0; i < 6; i++) {
      limiter.tell(new RateLimiter.Acquire(permits.ref(), false));
    }
    List<RateLimiter.Permit> granted = new ArrayList<>();
    granted.add(permits.expectMessageClass(RateLimiter.Permit.class));
    for (long at = 250; at <= 750; at += 250) {
      advanceTo(clock, at);
      granted.add(permits.expectMessageClass(RateLimiter.Permit.class));
    }

    // The four calls were held up (a pause) and reach Telegram together at 1 s, where pacing alone
    // would grant the fifth: it must wait until those four are a second old.
    advanceTo(clock, 1000);
    permits.expectNoMessage(Duration.ofMillis(100));
    granted.forEach(permit -> limiter.tell(new RateLimiter.Release(permit.id())));
    permits.expectNoMessage(Duration.ofMillis(100));
    advanceTo(clock, 1999);
    permits.expectNoMessage(Duration.ofMillis(100));
    advanceTo(clock, 2000);
    permits.expectMessageClass(RateLimiter.Permit.class);
  }

  @Test
  void takesBackAPermitItsHolderNeverReturned() {
    AtomicLong clock = new AtomicLong();
    var limiter =
        manualKit.spawn(RateLimiter.create(1, 0, Duration.ofSeconds(3), clock::get));
    TestProbe<RateLimiter.Permit> permits = manualKit.createTestProbe();
    limiter.tell(new RateLimiter.Acquire(permits.ref(), false));
    limiter.tell(new RateLimiter.Acquire(permits.ref(), false));
    permits.expectMessageClass(RateLimiter.Permit.class);

    advanceTo(clock, 2999);
    permits.expectNoMessage(Duration.ofMillis(100));
    // taken back at 3 s, and counted as a call answered then: its call may have reached Telegram
    advanceTo(clock, 3000);
    permits.expectNoMessage(Duration.ofMillis(100));
    advanceTo(clock, 4000);
    permits.expectMessageClass(RateLimiter.Permit.class);
  }
}
