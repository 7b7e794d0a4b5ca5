package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.testing.ClusterHarness;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
    Set<Long> hostedByLeaving = cluster.hostedUsers(0);
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
