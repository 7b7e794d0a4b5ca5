package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.ClusterHarness;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import io.botengine.testing.Scrape;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator's view of a three-node cluster, asked of any node: every running job with the node
 * that hosts it, members, shards per node and singletons, a job on another node cancelled, and
 * per-node metrics that add up to the cluster's.
 */
@ExtendWith(LogCapture.class)
class ClusterOpsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private ClusterHarness cluster;

  @BeforeEach
  void start() {
    cluster = new ClusterHarness(Map.of()).startNodes(3);
  }

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private HttpResponse<String> call(int node, String method, String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + cluster.httpPort(node) + path))
        .timeout(ClusterHarness.WAIT)
        .header("Authorization", "Bearer " + EngineHarness.ADMIN_TOKEN)
        .method(method, HttpRequest.BodyPublishers.noBody())
        .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode get(int node, String path) throws Exception {
    HttpResponse<String> r = call(node, "GET", path);
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  @Test
  void showsEveryJobWhereItRunsAndCancelsOneOnAnotherNode() throws Exception {
    List<Long> users = LongStream.rangeClosed(31_001, 31_009).boxed().toList();
    users.forEach(u -> cluster.runner.scenarioFor(u,
        RunnerScenario.manyOutputs(300, Duration.ofMillis(200))));
    cluster.startJobs(users);
    cluster.awaitAssert(ClusterHarness.WAIT, () -> users.forEach(u ->
        assertTrue(cluster.outputs(u).size() >= 1, "user " + u + " has no output yet")));

    Map<Long, String> hostOf = new HashMap<>();
    for (int n : cluster.runningNodes()) {
      String address = ClusterHarness.address(cluster.node(n)).toString();
      cluster.hostedUsers(n).forEach(u -> hostOf.put(u, address));
    }
    JsonNode jobs = get(2, "/admin/jobs");
    assertEquals(users.size(), jobs.get("running").asInt(), jobs.toString());
    assertEquals(users.size(), jobs.get("jobs").size());
    for (JsonNode job : jobs.get("jobs")) {
      long user = job.get("user_id").asLong();
      assertEquals(hostOf.get(user), job.get("node").asText(), "node of user " + user);
      assertEquals(cluster.taskOf(user), job.get("task_id").asText());
    }

    JsonNode view = get(1, "/admin/cluster");
    assertEquals(3, view.get("members").size());
    view.get("members").forEach(m -> assertEquals("up", m.get("status").asText()));
    String oldest = ClusterHarness.address(cluster.node(0)).toString();
    assertEquals(oldest, view.get("singletons").get("job-registry").asText());
    assertEquals(3, view.get("shards").size(), view.toString());
    int hosted = 0;
    for (JsonNode node : view.get("shards")) {
      hosted += node.get("users").asInt();
    }
    assertTrue(hosted >= users.size(), view.toString());

    double running = 0;
    for (int n : cluster.runningNodes()) {
      String metrics = call(n, "GET", "/metrics").body();
      double here = Scrape.value(metrics, "botengine_jobs_running");
      assertEquals(cluster.hostedUsers(n).stream().filter(users::contains).count(), here,
          "node " + n + " runs the tasks of the users it hosts");
      running += here;
    }
    assertEquals(users.size(), running);

    long remote = users.stream()
        .filter(u -> !hostOf.get(u).equals(ClusterHarness.address(cluster.node(0)).toString()))
        .findFirst().orElseThrow();
    HttpResponse<String> cancelled = call(0, "POST", "/admin/users/" + remote + "/cancel");
    assertEquals(200, cancelled.statusCode(), cancelled.body());
    String task = cluster.taskOf(remote);
    cluster.awaitAssert(ClusterHarness.WAIT, () -> assertTrue(cluster.runner.cancelled()
        .contains(task)));
    cluster.awaitAssert(ClusterHarness.WAIT, () -> {
      try {
        assertEquals(users.size() - 1, get(0, "/admin/jobs").get("running").asInt());
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
  }
}
