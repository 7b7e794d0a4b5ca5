package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.testing.ClusterHarness;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Long polling runs as a Cluster Singleton on the oldest node. That node leaves while users keep
 * writing: polling moves to another node, re-reads what was not confirmed, and every update gets
 * exactly one answer.
 */
@ExtendWith(LogCapture.class)
class ClusterPollingSingletonTest {
  private static final Duration PACE = Duration.ofMillis(50);
  private static ClusterHarness cluster;

  @BeforeAll
  static void start() {
    cluster = new ClusterHarness(Map.of()).startNodes(3);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void movesPollingWithItsNodeAndAnswersEveryUpdateOnce() throws InterruptedException {
    List<Long> users = LongStream.rangeClosed(40_001, 40_010).boxed().toList();
    Map<Long, List<Long>> updates = new TreeMap<>();
    users.forEach(u -> updates.put(u, new ArrayList<>()));

    write(users, updates, 40);
    Set<Long> hostedByLeaving = new TreeSet<>(cluster.hostedUsers(0));
    hostedByLeaving.retainAll(users);
    Thread writer = new Thread(() -> write(users, updates, 80), "users-writing");
    writer.start();
    Thread.sleep(PACE.toMillis() * 10);
    cluster.leave(0);
    writer.join();
    assertFalse(hostedByLeaving.isEmpty(), "node 0 hosted no user");

    long lastUpdate = updates.values().stream().flatMap(List::stream).max(Long::compare).get();
    cluster.awaitAssert(ClusterHarness.WAIT, () -> {
      assertTrue(cluster.bot.confirmedOffset() > lastUpdate,
          "confirmed offset " + cluster.bot.confirmedOffset() + ", last update " + lastUpdate);
      users.forEach(u -> assertEquals(updates.get(u).size(), answers(u), "user " + u));
    });

    // Telegram re-sends handled updates; users now living on another node still know them.
    for (long user : hostedByLeaving) {
      cluster.bot.redeliver(updates.get(user).get(0));
      cluster.bot.redeliver(updates.get(user).get(updates.get(user).size() - 1));
      cluster.bot.sendText(user, "/help", "ru");
    }
    for (long user : hostedByLeaving) {
      List<Sent> sent = cluster.bot.awaitSent(user, updates.get(user).size() + 1,
          ClusterHarness.WAIT);
      assertTrue(sent.get(sent.size() - 1).text().startsWith("👋"), "user " + user + ": " + sent);
    }
    users.forEach(u -> {
      int expected = updates.get(u).size() + (hostedByLeaving.contains(u) ? 1 : 0);
      assertEquals(expected, cluster.bot.sentTo(u).size(), "user " + u);
    });
    System.out.printf(
        "ClusterPollingSingletonTest: %d updates from %d users, polling moved off node 0 while"
            + " they wrote; %d handled updates re-sent afterwards; every update answered once%n",
        updates.values().stream().mapToInt(List::size).sum(), users.size(),
        2 * hostedByLeaving.size());
  }

  @Test
  void creditsAStarsPaymentOnceWhereverTheUsersActorLives() {
    List<Long> users = LongStream.rangeClosed(40_101, 40_112).boxed().toList();
    users.forEach(u -> cluster.bot.sendText(u, "/buy", "ru"));
    cluster.awaitAssert(ClusterHarness.WAIT, () -> users.forEach(u ->
        assertEquals(2, cluster.bot.invoices(u).size(), "user " + u)));
    int polling = pollingNode();
    List<Long> elsewhere = users.stream()
        .filter(u -> !cluster.hostedUsers(polling).contains(u)).toList();
    assertFalse(elsewhere.isEmpty(), "every user lives on the polling node: " + cluster.hosting());

    for (long user : elsewhere) {
      BotApiEmulator.PaymentResult paid = cluster.bot.pay(user, cluster.bot.invoices(user).get(0));
      assertTrue(paid.ok(), "user " + user + ": " + paid);
      cluster.bot.redeliverPayment(user, paid.chargeId());
    }
    cluster.awaitAssert(ClusterHarness.WAIT, () -> elsewhere.forEach(u -> {
      JsonNode account = cluster.adminUser(cluster.runningNodes().get(0), u);
      assertEquals(6, account.get("balance").asLong(), "user " + u + ": " + account);
      assertEquals(1, account.get("payments").size(), "user " + u + ": " + account);
      assertEquals(1, cluster.bot.sentTo(u).stream()
          .filter(s -> s.text() != null && s.text().startsWith("✅ Оплачено: +5 токенов")).count(),
          "user " + u);
    }));
  }

  /** The node running the polling singleton: the oldest member. */
  private static int pollingNode() {
    return cluster.runningNodes().stream()
        .reduce((a, b) -> Cluster.get(cluster.node(a).system()).selfMember()
            .isOlderThan(Cluster.get(cluster.node(b).system()).selfMember()) ? a : b)
        .orElseThrow();
  }

  /** {@code count} /balance messages, round robin over the users, one every {@link #PACE}. */
  private static void write(List<Long> users, Map<Long, List<Long>> updates, int count) {
    for (int i = 0; i < count; i++) {
      long user = users.get(i % users.size());
      long id = cluster.bot.sendText(user, "/balance", "ru");
      synchronized (updates) {
        updates.get(user).add(id);
      }
      try {
        Thread.sleep(PACE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static long answers(long user) {
    return cluster.bot.sentTo(user).stream()
        .filter(s -> s.text() != null && s.text().startsWith("💰"))
        .count();
  }
}
