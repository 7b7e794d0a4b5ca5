package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator's admin endpoints on a running engine: the running jobs, cancelling one, the
 * cluster view, and readiness in JSON.
 */
@ExtendWith(LogCapture.class)
class AdminOpsIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static EngineHarness harness;

  @BeforeAll
  static void start() {
    harness = new EngineHarness();
    harness.start();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static JsonNode json(HttpResponse<String> response, int status) {
    assertEquals(status, response.statusCode(), response.body());
    try {
      return JSON.readTree(response.body());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + response.body(), e);
    }
  }

  private static String selfAddress() {
    return json(harness.admin("GET", "/admin/cluster", null), 200).get("self").asText();
  }

  @Test
  void listsARunningJobThenCancelsItLikeTheUsersCancel() {
    long user = 9101;
    harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(200, Duration.ofMillis(300)));
    harness.bot.sendText(user, "/cv", "en");
    harness.awaitMessages(user, 1);
    harness.bot.sendDocument(user, "cv.txt", "text/plain",
        "Jane Doe, Java".getBytes(StandardCharsets.UTF_8));
    harness.awaitMessages(user, 5);
    String taskId = harness.runner.uploads().stream().filter(u -> u.telegramId() == user)
        .findFirst().orElseThrow().taskId();

    JsonNode jobs = json(harness.admin("GET", "/admin/jobs", null), 200);
    assertEquals(1, jobs.get("running").asInt(), jobs.toString());
    JsonNode job = jobs.get("jobs").get(0);
    assertEquals(Long.toString(user), job.get("user_id").asText());
    assertEquals(taskId, job.get("task_id").asText());
    assertFalse(job.get("job_id").asText().isEmpty());
    assertFalse(job.get("started_at").asText().isEmpty(), job.toString());
    assertTrue(job.get("outputs_delivered").asLong() >= 2, job.toString());
    assertEquals(selfAddress(), job.get("node").asText());

    JsonNode cancelled = json(harness.admin("POST", "/admin/users/" + user + "/cancel", ""), 200);
    assertEquals("idle", cancelled.get("state").asText());
    assertEquals(1, cancelled.get("balance").asLong(), "nothing charged");
    assertEquals(0, cancelled.get("reserved").asLong());
    harness.awaitAssert(() -> assertTrue(harness.runner.cancelled().contains(taskId)));
    harness.awaitAssert(() -> {
      List<String> texts = harness.messages(user).stream().map(m -> String.valueOf(m.text()))
          .toList();
      assertEquals("Analysis cancelled.", texts.get(texts.size() - 1), texts.toString());
    });
    harness.awaitAssert(() -> assertEquals(0,
        json(harness.admin("GET", "/admin/jobs", null), 200).get("running").asInt()));

    assertEquals(409, harness.admin("POST", "/admin/users/" + user + "/cancel", "").statusCode());
    assertEquals(404, harness.admin("POST", "/admin/users/9199/cancel", "").statusCode());
  }

  @Test
  void refusesTheOperatorViewsWithoutTheToken() {
    assertEquals(401, harness.call("GET", "/admin/jobs", null).statusCode());
    assertEquals(401, harness.call("GET", "/admin/cluster", null).statusCode());
    assertEquals(401, harness.call("POST", "/admin/users/1/cancel", "").statusCode());
    assertEquals(400, harness.admin("GET", "/admin/jobs?limit=0", null).statusCode());
  }

  @Test
  void showsMembersShardsAndSingletons() {
    harness.bot.sendText(9102, "/start", "en");
    harness.awaitMessages(9102, 1);
    JsonNode cluster = json(harness.admin("GET", "/admin/cluster", null), 200);
    String self = cluster.get("self").asText();
    assertTrue(self.startsWith("akka://bot-engine@127.0.0.1:"), self);
    JsonNode member = cluster.get("members").get(0);
    assertEquals(self, member.get("address").asText());
    assertEquals("up", member.get("status").asText());
    assertTrue(member.get("reachable").asBoolean() && member.get("self").asBoolean()
        && member.get("oldest").asBoolean(), member.toString());
    assertEquals(self, cluster.get("leader").asText());
    assertTrue(cluster.get("shards").get(self).get("shards").asInt() >= 1, cluster.toString());
    assertTrue(cluster.get("shards").get(self).get("users").asInt() >= 1, cluster.toString());
    assertEquals(self, cluster.get("singletons").get("job-registry").asText());
    assertEquals(self, cluster.get("singletons").get("telegram-polling").asText());
  }

  @Test
  void readinessIsJson() {
    JsonNode ready = json(harness.call("GET", "/health/ready", null), 200);
    assertEquals(JSON.valueToTree(Map.of("ready", true, "member", "up", "journal", "ok",
        "reasons", List.of())), ready);
  }
}
