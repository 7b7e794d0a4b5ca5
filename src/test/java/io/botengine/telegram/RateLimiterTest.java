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
 * planned pace when the limiter's timer fires late, but never come closer than half a spacing.
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

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    manualKit.shutdownTestKit();
  }

  /** A limiter of 20 permits/s (50 ms apart) on the manual clock, and three outputs waiting. */
  private static TestProbe<RateLimiter.Permit> threeWaitingOn(AtomicLong clock) {
    var limiter = manualKit.spawn(RateLimiter.create(20, clock::get));
    TestProbe<RateLimiter.Permit> permits = manualKit.createTestProbe();
    for (int i = 0; i < 3; i++) {
      limiter.tell(new RateLimiter.Acquire(permits.ref(), false));
    }
    permits.expectMessage(RateLimiter.Permit.INSTANCE);
    permits.expectNoMessage(Duration.ofMillis(100));
    return permits;
  }

  @Test
  void keepsThePlannedPaceWhenItsTimerFiresLate() {
    AtomicLong clock = new AtomicLong();
    TestProbe<RateLimiter.Permit> permits = threeWaitingOn(clock);

    clock.set(Duration.ofMillis(70).toNanos());
    manualTime.timePasses(SPACING);
    permits.expectMessage(RateLimiter.Permit.INSTANCE);

    // planned at 100 ms: 50 ms after the one planned at 50 ms, though that came at 70 ms
    clock.set(Duration.ofMillis(100).toNanos());
    manualTime.timePasses(Duration.ofMillis(30));
    permits.expectMessage(RateLimiter.Permit.INSTANCE);
  }

  @Test
  void neverGrantsTwoPermitsCloserThanHalfASpacing() {
    AtomicLong clock = new AtomicLong();
    TestProbe<RateLimiter.Permit> permits = threeWaitingOn(clock);

    clock.set(Duration.ofMillis(150).toNanos());
    manualTime.timePasses(SPACING);
    permits.expectMessage(RateLimiter.Permit.INSTANCE);

    // planned at 100 ms, but the last one came at 150 ms: not before 175 ms
    clock.set(Duration.ofMillis(174).toNanos());
    manualTime.timePasses(Duration.ofMillis(24));
    permits.expectNoMessage(Duration.ofMillis(100));
    clock.set(Duration.ofMillis(175).toNanos());
    manualTime.timePasses(Duration.ofMillis(1));
    permits.expectMessage(RateLimiter.Permit.INSTANCE);
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
    var limiter = testKit.spawn(RateLimiter.create(20));
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
}
