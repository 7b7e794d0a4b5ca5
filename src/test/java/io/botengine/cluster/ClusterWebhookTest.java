package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.botengine.testing.ClusterHarness;
import io.botengine.testing.LogCapture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Webhook mode behind a load balancer: every node takes any update and routes it to the user's
 * node through sharding. The same update posted to two nodes at once, or again after the node
 * that handled it left, gets one answer.
 */
@ExtendWith(LogCapture.class)
class ClusterWebhookTest {
  private static final String SECRET = "cluster-webhook-secret";
  private static ClusterHarness cluster;

  @BeforeAll
  static void start() {
    cluster = new ClusterHarness(Map.of(
        "bot.telegram.mode", "webhook",
        "bot.telegram.webhook.secret", SECRET)).startNodes(3);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void answersEachUpdateOnceWhicheverNodesItIsPostedTo() {
    List<Long> users = LongStream.rangeClosed(60_001, 60_010).boxed().toList();
    // The emulator knows a chat once its user wrote; that message stays undelivered here.
    users.forEach(u -> cluster.bot.sendText(u, "/start", "ru"));
    Map<Long, Integer> updates = new TreeMap<>();

    List<String> posted = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      long user = users.get(i % users.size());
      String update = balance(1_000_000 + i, user);
      posted.add(update);
      updates.merge(user, 1, Integer::sum);
      CompletableFuture<Integer> first = cluster.postWebhook(i % 3, SECRET, update);
      CompletableFuture<Integer> again = cluster.postWebhook((i + 1) % 3, SECRET, update);
      assertEquals(List.of(200, 200), List.of(first.join(), again.join()), "update " + i);
    }
    awaitAnswers(users, updates);

    cluster.leave(0);
    cluster.awaitMembersUp(2);
    for (int i = 0; i < posted.size(); i++) {
      assertEquals(200, cluster.postWebhook(1 + i % 2, SECRET, posted.get(i)).join());
    }
    for (int i = 30; i < 40; i++) {
      long user = users.get(i % users.size());
      updates.merge(user, 1, Integer::sum);
      String update = balance(1_000_000 + i, user);
      assertEquals(200, cluster.postWebhook(1 + i % 2, SECRET, update).join());
    }
    awaitAnswers(users, updates);
  }

  private static void awaitAnswers(List<Long> users, Map<Long, Integer> updates) {
    cluster.awaitAssert(ClusterHarness.WAIT, () -> users.forEach(u ->
        assertEquals((long) updates.get(u), cluster.bot.sentTo(u).size(), "user " + u)));
  }

  private static String balance(long updateId, long user) {
    return "{\"update_id\": " + updateId + ", \"message\": {\"message_id\": " + updateId
        + ", \"date\": 1700000000, \"chat\": {\"id\": " + user + ", \"type\": \"private\"},"
        + " \"from\": {\"id\": " + user + ", \"is_bot\": false, \"first_name\": \"U\","
        + " \"language_code\": \"ru\"}, \"text\": \"/balance\", \"entities\": [{\"offset\": 0,"
        + " \"length\": 8, \"type\": \"bot_command\"}]}}";
  }
}
