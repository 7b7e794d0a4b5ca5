package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.botengine.EngineSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.meta.api.objects.Update;

/** One slow user never holds up the others' updates, and nothing is confirmed before it is accepted. */
class PollingIngressTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final ObjectMapper JSON = new ObjectMapper();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /**
   * Telegram's getUpdates: every update at or after the offset; earlier ones are confirmed. With
   * none, it is a long poll, as Telegram's: answered when an update comes, or empty after a
   * second. (Answered empty at once, the ingress polled in a loop that kept the test's two
   * dispatcher threads busy, and its actor system could not stop within 10 s.)
   */
  private static final class FakeTelegram implements PollingIngress.Source {
    final List<Update> updates = new ArrayList<>();
    final AtomicLong confirmed = new AtomicLong();
    private long nextId = 1;
    private CompletableFuture<List<Update>> polling;

    synchronized long send(long userId, String text) {
      long id = nextId++;
      try {
        updates.add(JSON.readValue(String.format(
            "{\"update_id\":%d,\"message\":{\"message_id\":%d,\"date\":1,\"text\":\"%s\","
                + "\"from\":{\"id\":%d,\"is_bot\":false,\"first_name\":\"U\"},"
                + "\"chat\":{\"id\":%d,\"type\":\"private\"}}}",
            id, id, text, userId, userId), Update.class));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      if (polling != null) {
        polling.complete(List.copyOf(updates));
        polling = null;
      }
      return id;
    }

    @Override
    public synchronized CompletionStage<List<Update>> getUpdates(long offset) {
      confirmed.accumulateAndGet(offset, Math::max);
      updates.removeIf(u -> u.getUpdateId() < offset);
      if (!updates.isEmpty()) {
        return CompletableFuture.completedFuture(List.copyOf(updates));
      }
      polling = new CompletableFuture<List<Update>>()
          .completeOnTimeout(List.of(), 1, TimeUnit.SECONDS);
      return polling;
    }

    @Override
    public CompletionStage<Boolean> deleteWebhook() {
      return CompletableFuture.completedFuture(true);
    }
  }

  /** User actors whose acceptance the test completes, or that accept at once. */
  private static final class Users implements UserDirectory {
    final TestProbe<Inbound> delivered = testKit.createTestProbe();
    final Map<Long, CompletableFuture<Done>> held = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<Long> stuck = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Long> failOnce = new ConcurrentLinkedQueue<>();

    @Override
    public CompletionStage<Done> deliver(Inbound update) {
      delivered.ref().tell(update);
      if (failOnce.remove(update.updateId())) {
        return CompletableFuture.failedFuture(new IllegalStateException("ask timed out"));
      }
      if (stuck.contains(update.userId())) {
        return held.computeIfAbsent(update.updateId(), id -> new CompletableFuture<>());
      }
      return CompletableFuture.completedFuture(Done.getInstance());
    }
  }

  private static EngineSettings.Telegram settings() {
    return new EngineSettings.Telegram("1:x", "http://127.0.0.1:1", EngineSettings.Mode.POLLING, "",
        "/telegram/webhook", "", Duration.ofSeconds(1), 100, Duration.ofMillis(20),
        Duration.ofMillis(50), 1_048_576, 8, 64, Duration.ofSeconds(1), Duration.ofSeconds(2));
  }

  @Test
  void answersOtherUsersWhileOneUsersActorIsStuckAndConfirmsOnlyWhatWasAccepted() {
    FakeTelegram telegram = new FakeTelegram();
    Users users = new Users();
    users.stuck.add(1L);
    long stuckId = telegram.send(1, "/balance");
    telegram.send(2, "/start");
    testKit.spawn(PollingIngress.create(telegram, users, settings()));

    List<Long> seen = new ArrayList<>();
    seen.add(users.delivered.receiveMessage().updateId());
    seen.add(users.delivered.receiveMessage().updateId());
    long later = telegram.send(2, "/help");
    long third = telegram.send(3, "/start");
    List<Inbound> next = users.delivered.receiveSeveralMessages(2, Duration.ofSeconds(3));
    assertEquals(List.of(later, third), next.stream().map(Inbound::updateId).sorted().toList());
    assertEquals(stuckId, telegram.confirmed.get(), "nothing at or after the stuck update confirmed");
    users.delivered.expectNoMessage(Duration.ofMillis(300));

    users.stuck.clear();
    users.held.get(stuckId).complete(Done.getInstance());
    users.delivered.awaitAssert(() -> {
      assertEquals(third + 1, telegram.confirmed.get());
      return null;
    });
  }

  @Test
  void handsAFailedUpdateOverAgainBeforeThatUsersNextAndInOrder() {
    FakeTelegram telegram = new FakeTelegram();
    Users users = new Users();
    long first = telegram.send(7, "/cv");
    long second = telegram.send(7, "/cancel");
    users.failOnce.add(first);
    testKit.spawn(PollingIngress.create(telegram, users, settings()));

    List<Long> order = new ArrayList<>();
    users.delivered.receiveSeveralMessages(3, Duration.ofSeconds(3))
        .forEach(u -> order.add(u.updateId()));
    assertEquals(List.of(first, first, second), order);
    users.delivered.awaitAssert(() -> {
      assertEquals(second + 1, telegram.confirmed.get());
      return null;
    });
    users.delivered.expectNoMessage(Duration.ofMillis(300));
    assertTrue(telegram.updates.isEmpty());
  }
}
