package io.botengine.webapp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.Json;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import io.botengine.testing.SseClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code GET /webapp/api/events} over a real socket while jobs run through the emulators: who may
 * connect, what a client sees of a job and in which order, and how a reconnecting client resumes.
 */
@ExtendWith(LogCapture.class)
class WebEventsIntegrationTest {
  private static final Duration WAIT = EngineHarness.WAIT;
  /** Few events kept, so that a client can fall behind what the node still has. */
  private static final int KEPT = 4;

  private static EngineHarness harness;

  @BeforeAll
  static void start() {
    harness = new EngineHarness();
    harness.start(Map.of("bot.webapp.events-kept", KEPT, "bot.webapp.heartbeat", "300ms"));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  /** {@code Authorization: tma <initData>} as a Mini App of a bot with {@code token} sends it. */
  static String tma(String token, long user, Instant signedAt) {
    TreeMap<String, String> f = new TreeMap<>();
    f.put("user", "{\"id\":" + user + ",\"first_name\":\"Web\"}");
    f.put("auth_date", Long.toString(signedAt.getEpochSecond()));
    f.put("query_id", "AAH" + user);
    return "tma " + InitData.sign(token, f);
  }

  static String tma(long user) {
    return tma(EngineHarness.TOKEN, user, Instant.now());
  }

  static void runJob(long user, RunnerScenario scenario) {
    harness.runner.scenarioFor(user, scenario);
    harness.bot.sendText(user, "/cv", "en");
    harness.awaitMessages(user, 1);
    harness.bot.sendDocument(user, "cv.txt", "text/plain",
        "Jane Doe, Java".getBytes(StandardCharsets.UTF_8));
  }

  static JsonNode data(SseClient.Event e) {
    try {
      return Json.MAPPER.readTree(e.data());
    } catch (Exception ex) {
      throw new AssertionError("not JSON: " + e, ex);
    }
  }

  @Test
  void showsAStreamedAnswerGrowingAsPreviewsBeforeItsOutput() {
    long user = 7104;
    List<SseClient.Event> seen;
    try (SseClient c = SseClient.connect(harness.httpPort(), tma(user), null)) {
      assertEquals(200, c.status(WAIT));
      assertEquals("ack", c.next(WAIT).type());
      runJob(user, RunnerScenario.STREAMED);
      seen = c.until("end", WAIT);
    }
    List<String> previews = seen.stream().filter(e -> e.type().equals("preview"))
        .map(e -> data(e).path("text").asText()).toList();
    assertTrue(previews.size() >= 2, "previews: " + previews);
    assertTrue(previews.get(previews.size() - 1).length() > previews.get(0).length(),
        "the preview grows: " + previews);
    int lastPreview = -1;
    int analysis = -1;
    for (int i = 0; i < seen.size(); i++) {
      if (seen.get(i).type().equals("preview")) {
        lastPreview = i;
      } else if (seen.get(i).type().equals("output")
          && data(seen.get(i)).path("text").asText().startsWith("## Анализ CV")) {
        analysis = i;
      }
    }
    assertTrue(analysis > lastPreview, "the complete output comes after its previews: " + seen);
  }

  @Test
  void refusesAnythingButGenuineRecentInitDataWithABare401() {
    int port = harness.httpPort();
    for (String auth : new String[] {
        null,
        "Bearer x",
        "tma ",
        tma("654321:another-bot", 7100, Instant.now()),
        tma(EngineHarness.TOKEN, 7100, Instant.now().minus(Duration.ofHours(25))),
        tma(7100).replace("hash=", "hash=0")}) {
      try (SseClient c = SseClient.connect(port, auth, null)) {
        assertEquals(401, c.status(WAIT), String.valueOf(auth));
      }
    }
    var r = harness.call("GET", "/webapp/api/events", null, "Authorization", "tma x=1&hash=00");
    assertEquals(401, r.statusCode());
    assertTrue(!r.body().toLowerCase().contains("hash") && !r.body().contains("auth_date"),
        r.body());
  }

  @Test
  void followsAJobFromAckToEndAndResumesAfterTheLastEventSeen() {
    long user = 7101;
    List<SseClient.Event> seen;
    try (SseClient c = SseClient.connect(harness.httpPort(), tma(user), null)) {
      assertEquals(200, c.status(WAIT));
      SseClient.Event ack = c.next(WAIT);
      assertEquals("ack", ack.type(), "the first event");
      assertNull(ack.id());
      assertEquals(user, data(ack).path("user").asLong());
      runJob(user, RunnerScenario.SEED_001.withPacing(Duration.ofMillis(100)));
      seen = c.until("end", WAIT);
    }
    seen.forEach(e -> assertNotNull(e.id(), "every event after ack has an id: " + e));
    assertEquals(seen.size(), seen.stream().map(SseClient.Event::id).distinct().count());

    JsonNode started = data(seen.get(0));
    assertEquals("job", seen.get(0).type());
    assertEquals("started", started.path("state").asText());
    String jobId = started.path("jobId").asText();
    SseClient.Event accepted =
        seen.stream().filter(e -> e.type().equals("job") && data(e).path("state").asText()
            .equals("accepted")).findFirst().orElseThrow(() -> new AssertionError(seen));
    assertTrue(!data(accepted).path("taskId").asText().isEmpty());
    assertTrue(data(accepted).has("queuePosition"));
    List<JsonNode> outputs =
        seen.stream().filter(e -> e.type().equals("output")).map(WebEventsIntegrationTest::data)
            .toList();
    assertEquals(List.of(1L, 2L, 3L, 4L),
        outputs.stream().map(o -> o.path("index").asLong()).toList());
    assertEquals("text", outputs.get(0).path("kind").asText());
    assertTrue(!outputs.get(0).path("text").asText().isEmpty());
    JsonNode file = outputs.stream().filter(o -> o.path("kind").asText().equals("file"))
        .findFirst().orElseThrow(() -> new AssertionError(outputs));
    assertTrue(file.path("fileName").asText().endsWith(".md"), file.toString());
    assertTrue(!file.has("text"), "a file's content is not sent: " + file);
    assertTrue(seen.stream().anyMatch(e -> e.type().equals("progress")), "progress: " + seen);
    JsonNode end = data(seen.get(seen.size() - 1));
    assertEquals(jobId, end.path("jobId").asText());
    assertEquals("SUCCEEDED", end.path("outcome").asText());
    assertEquals(1, end.path("tokensCharged").asLong());

    // Resuming after an event still kept: exactly what followed it, no gap, no repeat.
    int from = seen.size() - KEPT;
    try (SseClient c = SseClient.connect(harness.httpPort(), tma(user), seen.get(from).id())) {
      assertEquals("ack", c.next(WAIT).type());
      List<SseClient.Event> resumed = c.until("end", WAIT);
      assertEquals(seen.subList(from + 1, seen.size()), resumed);
    }
    // Resuming after an event no longer kept: reset says so.
    try (SseClient c = SseClient.connect(harness.httpPort(), tma(user), seen.get(from - 1).id())) {
      assertEquals("ack", c.next(WAIT).type());
      SseClient.Event reset = c.next(WAIT);
      assertEquals("reset", reset.type());
      assertNull(reset.id());
    }
  }

  @Test
  void aQuietStreamGetsHeartbeatComments() {
    try (SseClient c = SseClient.connect(harness.httpPort(), tma(7102), null)) {
      assertEquals("ack", c.next(WAIT).type());
      harness.awaitAssert(() -> assertTrue(c.comments() >= 2, "heartbeats: " + c.comments()));
    }
  }
}
