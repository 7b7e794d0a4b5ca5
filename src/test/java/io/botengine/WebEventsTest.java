package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.pubsub.Topic;
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
    ActorRef<Topic.Command<WebEvents.Event>> topic = testKit.spawn(WebEvents.topic(4202));
    topic.tell(Topic.subscribe(client.getRef()));
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
   * The topic of a user no web client follows is stopped after {@code unfollowed-topic-idle} (here
   * 200 ms); a followed user's stays for {@code topic-idle} (here an hour).
   */
  @Test
  void stopsTheTopicOfAUserNobodyFollowsSoonerThanAFollowedUsersTopic() {
    ActorTestKit node = ActorTestKit.create(ConfigFactory.parseString(
            "bot.webapp.unfollowed-topic-idle = 200ms\nbot.webapp.topic-idle = 1h")
        .withFallback(testKit.system().settings().config()));
    try {
      TestProbe<WebEvents.Event> client = node.createTestProbe();
      node.spawn(WebEvents.topic(4205)).tell(Topic.subscribe(client.getRef()));
      WebEvents events = WebEvents.get(node.system());
      events.publish(4205, "output", "{}");
      client.expectMessageClass(WebEvents.Event.class, WAIT);
      events.publish(4204, "output", "{}");
      client.awaitAssert(WAIT, () -> {
        assertTrue(CapturingAppender.text().contains("stopped 1 idle topics, 1 kept"),
            "the unfollowed user's topic was stopped, the followed one's kept");
        return null;
      });
      assertTrue(CapturingAppender.text()
          .contains("user 4204: no web client follows; 1 events not sent"));
    } finally {
      node.shutdownTestKit();
    }
  }
}
