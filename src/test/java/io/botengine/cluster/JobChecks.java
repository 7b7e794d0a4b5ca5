package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.ClusterHarness;
import io.botengine.user.UserEntity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * What must hold for every job of a cluster test once it is over, read from the Bot API
 * emulator's record, the admin API and the journal itself.
 */
final class JobChecks {
  static final String SUCCEEDED = "✅ Анализ завершён! Списано: 1 токен";

  private JobChecks() {}

  /** Waits until every user got the success message (or fails after {@code max}). */
  /**
   * Starts a job of {@code outputs} outputs, one every 500 ms, for each user and waits until
   * every user got two of them (all jobs are mid-stream).
   */
  static void startStreaming(ClusterHarness cluster, List<Long> users, int outputs) {
    RunnerScenario scenario = RunnerScenario.manyOutputs(outputs, Duration.ofMillis(500));
    users.forEach(u -> cluster.runner.scenarioFor(u, scenario));
    cluster.startJobs(users);
    cluster.awaitAssert(ClusterHarness.WAIT, () -> users.forEach(u ->
        assertTrue(cluster.outputs(u).size() >= 2, "user " + u + ": " + cluster.outputs(u))));
  }

  static void awaitAllSucceeded(ClusterHarness cluster, List<Long> users, Duration max) {
    cluster.awaitAssert(max, () -> {
      List<Long> waiting = users.stream()
          .filter(u -> cluster.bot.sentTo(u).stream().noneMatch(s -> SUCCEEDED.equals(s.text())))
          .toList();
      assertTrue(waiting.isEmpty(), "users still waiting for their result: " + waiting);
    });
  }

  /**
   * Checks each user's job: outputs 1..{@code outputs} once each and in order, except that a user
   * in {@code mayRepeat} may have got one output twice in a row (the one in flight at a crash);
   * one success message, last; one upload; charged exactly once under {@code cv_analysis_{task}}
   * by the admin API (asked on the running nodes in turn) and in the journal. Returns how many
   * outputs were repeated in all.
   */
  static int verify(ClusterHarness cluster, List<Long> users, int outputs, Set<Long> mayRepeat) {
    List<String> expected =
        IntStream.rangeClosed(1, outputs).mapToObj(i -> "Вывод " + i).toList();
    List<Integer> nodes = cluster.runningNodes();
    int repeats = 0;
    int asked = 0;
    for (long user : users) {
      List<String> got = cluster.outputs(user);
      List<String> distinct = new ArrayList<>();
      int userRepeats = 0;
      for (String text : got) {
        if (!distinct.isEmpty() && distinct.get(distinct.size() - 1).equals(text)) {
          userRepeats++;
        } else {
          distinct.add(text);
        }
      }
      assertEquals(expected, distinct, "user " + user + " got " + got);
      assertTrue(userRepeats == 0 || (userRepeats == 1 && mayRepeat.contains(user)),
          "user " + user + " got " + userRepeats + " repeated outputs: " + got);
      repeats += userRepeats;

      List<Sent> chat = cluster.bot.sentTo(user);
      assertEquals(SUCCEEDED, chat.get(chat.size() - 1).text(), "user " + user + ": " + chat);
      assertEquals(1, chat.stream().filter(s -> SUCCEEDED.equals(s.text())).count(),
          "user " + user + ": " + chat);

      String key = "cv_analysis_" + cluster.taskOf(user);
      JsonNode account = cluster.adminUser(nodes.get(asked++ % nodes.size()), user);
      assertEquals("idle", account.get("state").asText(), account.toString());
      assertEquals(0, account.get("balance").asLong(), account.toString());
      assertEquals(0, account.get("reserved").asLong(), account.toString());
      List<JsonNode> charges = new ArrayList<>();
      account.get("ledger").forEach(e -> {
        if (e.get("key").asText().startsWith("cv_analysis_")) {
          charges.add(e);
        }
      });
      assertEquals(1, charges.size(), "user " + user + " ledger: " + account.get("ledger"));
      assertEquals(key, charges.get(0).get("key").asText());
      assertEquals(-1, charges.get(0).get("amount").asLong());

      List<JsonNode> succeeded = cluster.journalEvents(user, UserEntity.JobSucceeded.class);
      assertEquals(1, succeeded.size(), "user " + user + " JobSucceeded events: " + succeeded);
      assertEquals(key, succeeded.get(0).get("idempotencyKey").asText());
      assertEquals(1, succeeded.get(0).get("charged").asLong());
    }
    return repeats;
  }
}
