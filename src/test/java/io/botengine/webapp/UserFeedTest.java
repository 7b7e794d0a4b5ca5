package io.botengine.webapp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.stream.BoundedSourceQueue;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.typesafe.config.ConfigFactory;
import io.botengine.Json;
import io.botengine.WebEvents;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * One user's feed on a serving node, with a client that does not read: what it is sent is
 * bounded, and it is told {@code reset} and cut off instead of growing memory.
 */
@ExtendWith(LogCapture.class)
class UserFeedTest {
  private static final ActorTestKit testKit =
      ActorTestKit.create(ConfigFactory.parseString("akka.actor.provider = local")
          .withFallback(ConfigFactory.load("application-test.conf")));
  private static final WebAppSettings SETTINGS = new WebAppSettings(Duration.ofHours(24), 100, 4,
      Duration.ofSeconds(15), Duration.ofMinutes(5), Duration.ofMillis(100),
      Duration.ofSeconds(10));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A client that reads nothing until {@link #readAll}. */
  private static final class Client implements Subscriber<ServerSentEvent> {
    private final List<ServerSentEvent> got = new ArrayList<>();
    private final CompletableFuture<List<ServerSentEvent>> done = new CompletableFuture<>();
    private volatile Subscription subscription;

    @Override
    public void onSubscribe(Subscription s) {
      subscription = s;
    }

    @Override
    public synchronized void onNext(ServerSentEvent e) {
      got.add(e);
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public synchronized void onComplete() {
      done.complete(List.copyOf(got));
    }

    CompletableFuture<List<ServerSentEvent>> readAll() {
      subscription.request(Long.MAX_VALUE);
      return done;
    }
  }

  @Test
  void aClientThatDoesNotReadIsResetAndCutOffAtItsBuffer() throws Exception {
    long user = 501;
    WebEvents web = WebEvents.get(testKit.system());
    TestProbe<EventHub.Command> hub = testKit.createTestProbe();
    var feed = testKit.spawn(UserFeed.create(user, SETTINGS, web::echo, hub.getRef()));
    Client client = new Client();
    BoundedSourceQueue<ServerSentEvent> queue = Source.<ServerSentEvent>queue(4)
        .to(Sink.fromSubscriber(client)).run(testKit.system());
    feed.tell(new UserFeed.Connect(1, Optional.empty(), new UserFeed.Queue(queue, 4)));
    hub.awaitAssert(() -> {
      assertEquals(1, queue.size(), "ack");
      return null;
    });
    for (int i = 1; i <= 50; i++) {
      web.progress(user, "job", i * 10, "step " + i);
    }
    List<ServerSentEvent> got = client.readAll().get(10, TimeUnit.SECONDS);
    // What the stream stages between the queue and the client hold is a few events more.
    List<String> types = got.stream().map(e -> e.getEventType().orElse("")).toList();
    assertEquals("ack", types.get(0), types.toString());
    assertEquals("reset", types.get(types.size() - 1), types.toString());
    assertTrue(got.get(got.size() - 1).getId().isEmpty());
    List<ServerSentEvent> progress = got.subList(1, got.size() - 1);
    assertTrue(progress.size() >= 2 && progress.size() < 20, types.toString());
    for (int i = 0; i < progress.size(); i++) {
      assertEquals("progress", progress.get(i).getEventType().orElse(""));
      assertEquals((i + 1) * 10,
          Json.MAPPER.readTree(progress.get(i).getData()).path("percent").asInt());
    }
  }
}
