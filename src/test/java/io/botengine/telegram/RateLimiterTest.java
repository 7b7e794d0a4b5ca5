package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Replies to users go ahead of job outputs waiting for the bot-wide rate. */
class RateLimiterTest {
  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "akka.actor.provider = cluster, akka.remote.artery.canonical.port = 0")
      .withFallback(ConfigFactory.load("application-test.conf")));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
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
