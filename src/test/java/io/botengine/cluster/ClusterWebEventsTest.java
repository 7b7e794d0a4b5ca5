package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.Json;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.ClusterHarness;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import io.botengine.testing.SseClient;
import io.botengine.webapp.InitData;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A web client follows a job from a node that does not host the user's actor, in a three-node
 * cluster, and keeps following it when the hosting node leaves or is killed and the actor moves.
 */
@ExtendWith(LogCapture.class)
class ClusterWebEventsTest {
  private static final Duration WAIT = ClusterHarness.WAIT;
  private static final int OUTPUTS = 8;
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

  private static String tma(long user) {
    TreeMap<String, String> f = new TreeMap<>();
    f.put("user", "{\"id\":" + user + "}");
    f.put("auth_date", Long.toString(Instant.now().getEpochSecond()));
    return "tma " + InitData.sign(EngineHarness.TOKEN, f);
  }

  private static JsonNode data(SseClient.Event e) {
    try {
      return Json.MAPPER.readTree(e.data());
    } catch (Exception ex) {
      throw new AssertionError(e.toString(), ex);
    }
  }

  private static long index(SseClient.Event e) {
    return data(e).path("index").asLong();
  }

  /** A user whose actor lives on node 1 or 2 (so that node 0, with polling, stays). */
  private long[] userHostedOffTheOldest() {
    for (long user : LongStream.range(42_001, 42_040).toArray()) {
      cluster.bot.sendText(user, "/help", "en");
      cluster.bot.awaitSent(user, 1, WAIT);
      for (int n : List.of(1, 2)) {
        if (cluster.hostedUsers(n).contains(user)) {
          return new long[] {user, n};
        }
      }
    }
    throw new AssertionError("no user landed on node 1 or 2");
  }

  /**
   * Follows a job from the node that does not host the user; once output 2 arrived the hosting
   * node leaves ({@code crash}: is killed) and the actor resumes elsewhere. Returns what was seen.
   */
  private List<SseClient.Event> followWhileTheHostGoes(long user, int host, int serving,
      boolean crash) {
    cluster.runner.scenarioFor(user, RunnerScenario.manyOutputs(OUTPUTS, Duration.ofMillis(400)));
    List<SseClient.Event> seen = new ArrayList<>();
    try (SseClient c = SseClient.connect(cluster.httpPort(serving), tma(user), null)) {
      assertEquals(200, c.status(WAIT));
      assertEquals("ack", c.next(WAIT).type());
      cluster.bot.sendText(user, "/cv", "en");
      cluster.bot.awaitSent(user, 2, WAIT);
      cluster.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
      SseClient.Event e;
      do {
        e = c.next(WAIT);
        seen.add(e);
      } while (!(e.type().equals("output") && index(e) == 2));
      if (crash) {
        cluster.crash(host);
      } else {
        cluster.leave(host);
      }
      seen.addAll(c.until("end", Duration.ofSeconds(60)));
    }
    return seen;
  }

  @Test
  void aClientOnAnotherNodeFollowsTheJobWhenItsNodeIsKilled() {
    long[] found = userHostedOffTheOldest();
    long user = found[0];
    int host = (int) found[1];
    List<SseClient.Event> seen = followWhileTheHostGoes(user, host, host == 1 ? 2 : 1, true);
    List<Long> indices = seen.stream().filter(e -> e.type().equals("output"))
        .map(ClusterWebEventsTest::index).toList();
    // At most the output in flight at the crash is sent (and published) twice.
    assertEquals(LongStream.rangeClosed(1, OUTPUTS).boxed().toList(),
        indices.stream().distinct().toList(), indices.toString());
    assertTrue(indices.size() <= OUTPUTS + 1, indices.toString());
    assertEquals("SUCCEEDED", data(seen.get(seen.size() - 1)).path("outcome").asText());
  }

  @Test
  void aClientOnAnotherNodeFollowsTheJobAcrossAHandOver() {
    long[] found = userHostedOffTheOldest();
    long user = found[0];
    int host = (int) found[1];
    int serving = host == 1 ? 2 : 1;
    List<SseClient.Event> seen = followWhileTheHostGoes(user, host, serving, false);
    List<Long> indices = seen.stream().filter(e -> e.type().equals("output"))
        .map(ClusterWebEventsTest::index).toList();
    assertEquals(LongStream.rangeClosed(1, OUTPUTS).boxed().toList(), indices);
    int host2 = cluster.runningNodes().stream()
        .filter(n -> cluster.hostedUsers(n).contains(user)).findFirst().orElse(-1);
    assertNotEquals(host, host2, "the actor moved");

    // Reconnecting to the serving node after the move: the rest after the event seen, no repeat.
    int from = seen.size() - 4;
    String last = seen.get(from).id();
    try (SseClient c = SseClient.connect(cluster.httpPort(serving), tma(user), last)) {
      assertEquals("ack", c.next(WAIT).type());
      assertEquals(seen.subList(from + 1, seen.size()), c.until("end", WAIT));
    }
  }
}
