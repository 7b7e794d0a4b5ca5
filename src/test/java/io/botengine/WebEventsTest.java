package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.receptionist.Receptionist;
import com.typesafe.config.ConfigFactory;
import io.botengine.testing.CapturingAppender;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The publishing side of web events: an event's JSON is made only when someone follows. */
@ExtendWith(LogCapture.class)
class WebEventsTest {
  private static final ActorTestKit testKit =
      ActorTestKit.create(ConfigFactory.parseString("akka.actor.provider = local")
          .withFallback(ConfigFactory.load("application-test.conf")));
  private static final Duration WAIT = Duration.ofSeconds(10);

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** Registers {@code client} as a follower of {@code user}, as a serving node's feed does. */
  private static void follow(ActorTestKit kit, long user, TestProbe<WebEvents.Event> client) {
    TestProbe<Receptionist.Registered> registered = kit.createTestProbe();
    kit.system().receptionist().tell(Receptionist.register(WebEvents.followers(user),
        client.getRef(), registered.getRef()));
    registered.expectMessageClass(Receptionist.Registered.class, WAIT);
  }

  @Test
  void makesNoJsonForAUserNobodyFollows() {
    AtomicInteger made = new AtomicInteger();
    WebEvents.get(testKit.system()).publish(4201, "output", () -> {
      made.incrementAndGet();
      return Json.MAPPER.createObjectNode().put("index", 1);
    });
    TestProbe<Void> probe = testKit.createTestProbe();
    probe.awaitAssert(WAIT, () -> {
      assertTrue(CapturingAppender.text()
              .contains("user 4201: no web client follows; 1 events not sent"),
          "the registry dropped the event");
      return null;
    });
    assertEquals(0, made.get(), "the event's JSON was made");
  }

  @Test
  void makesTheJsonOnceForAUserSomeoneFollows() {
    AtomicInteger made = new AtomicInteger();
    TestProbe<WebEvents.Event> client = testKit.createTestProbe();
    follow(testKit, 4202, client);
    WebEvents.get(testKit.system()).publish(4202, "output", () -> {
      made.incrementAndGet();
      return Json.MAPPER.createObjectNode().put("index", 1);
    });
    WebEvents.Event event = client.expectMessageClass(WebEvents.Event.class, WAIT);
    assertEquals("output", event.type());
    assertEquals("{\"index\":1}", event.data());
    assertEquals(1, made.get());
  }

  /**
   * A handshake's echo can reach the user's node before the follower's registration does (it
   * travels by gossip from the serving node): the echo, and what is published behind it, wait for
   * the follower to be listed, in order.
   */
  @Test
  void anEchoWaitsForItsFollowerToBeListed() {
    WebEvents events = WebEvents.get(testKit.system());
    events.echo(4203, "nonce-1");
    TestProbe<WebEvents.Event> client = testKit.createTestProbe();
    client.awaitAssert(WAIT, () -> {
      assertTrue(CapturingAppender.text()
          .contains("user 4203: an echo waits for a follower to be listed"));
      return null;
    });
    events.publish(4203, "output", "{\"index\":1}");
    follow(testKit, 4203, client);
    WebEvents.Event echo = client.expectMessageClass(WebEvents.Event.class, WAIT);
    assertEquals(WebEvents.ECHO, echo.type());
    assertEquals("nonce-1", echo.id());
    WebEvents.Event output = client.expectMessageClass(WebEvents.Event.class, WAIT);
    assertEquals("output", output.type());
    assertEquals("{\"index\":1}", output.data());
  }

  /**
   * What the receptionist listed for a user no web client follows is forgotten after {@code
   * unfollowed-topic-idle} (here 200 ms); a followed user's is kept for {@code topic-idle} (here an
   * hour).
   */
  @Test
  void forgetsAUserNobodyFollowsSoonerThanAFollowedUser() {
    ActorTestKit node = ActorTestKit.create(ConfigFactory.parseString(
            "bot.webapp.unfollowed-topic-idle = 200ms\nbot.webapp.topic-idle = 1h")
        .withFallback(testKit.system().settings().config()));
    try {
      TestProbe<WebEvents.Event> client = node.createTestProbe();
      follow(node, 4205, client);
      WebEvents events = WebEvents.get(node.system());
      events.publish(4205, "output", "{}");
      client.expectMessageClass(WebEvents.Event.class, WAIT);
      events.publish(4204, "output", "{}");
      client.awaitAssert(WAIT, () -> {
        assertTrue(CapturingAppender.text().contains("forgot 1 idle users, 1 kept"),
            "the unfollowed user was forgotten, the followed one kept");
        return null;
      });
      assertTrue(CapturingAppender.text()
          .contains("user 4204: no web client follows; 1 events not sent"));
    } finally {
      node.shutdownTestKit();
    }
  }
}
