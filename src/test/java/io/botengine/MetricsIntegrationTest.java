package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import io.botengine.testing.Scrape;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code GET /metrics} as Prometheus scrapes it, while real jobs run through the emulators: each
 * test reads the counters before and after and checks what moved.
 */
@ExtendWith(LogCapture.class)
class MetricsIntegrationTest {
  private static final String METRICS_TOKEN = "metrics-secret";
  private static EngineHarness harness;

  @BeforeAll
  static void start() {
    harness = new EngineHarness();
    harness.start(Map.of("bot.metrics.token", METRICS_TOKEN));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  static String scrape() {
    HttpResponse<String> r =
        harness.call("GET", "/metrics", null, "Authorization", "Bearer " + METRICS_TOKEN);
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  static double value(String scrape, String series) {
    return Scrape.value(scrape, series);
  }

  static double value(String series) {
    return value(scrape(), series);
  }

  private static void runJob(long user, RunnerScenario scenario) {
    harness.runner.scenarioFor(user, scenario);
    harness.bot.sendText(user, "/cv", "en");
    harness.awaitMessages(user, 1);
    harness.bot.sendDocument(user, "cv.txt", "text/plain",
        "Jane Doe, Java".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void refusesAScrapeWithoutTheToken() {
    assertEquals(401, harness.call("GET", "/metrics", null).statusCode());
    assertEquals(401, harness.call("GET", "/metrics", null, "Authorization", "Bearer wrong")
        .statusCode());
  }

  @Test
  void showsJvmAndClusterBasics() {
    String s = scrape();
    assertTrue(s.contains("jvm_memory_used_bytes{"), "JVM memory");
    assertTrue(s.contains("jvm_threads_live_threads "), "JVM threads");
    assertEquals(1, value(s, "botengine_cluster_members{status=\"up\"}"));
    harness.awaitAssert(() -> {
      String now = scrape();
      assertTrue(value(now, "botengine_shards_hosted") >= 1, "shards hosted");
      assertEquals(1, value(now, "botengine_journal_reachable"));
    });
  }

  @Test
  void aSuccessfulJobMovesItsCounters() {
    String before = scrape();
    long user = 7001;
    runJob(user, RunnerScenario.SEED_001.withPacing(Duration.ofMillis(700)));
    harness.awaitAssert(() -> assertEquals(1, value("botengine_jobs_running")));
    harness.awaitMessages(user, 8);
    harness.awaitAssert(() -> {
      String after = scrape();
      assertEquals(1, delta(before, after, "botengine_jobs_started_total"));
      assertEquals(1,
          delta(before, after, "botengine_jobs_finished_total{outcome=\"succeeded\"}"));
      assertEquals(4, delta(before, after, "botengine_outputs_delivered_total"));
      assertEquals(4, delta(before, after, "botengine_output_latency_seconds_count"));
      assertEquals(1, delta(before, after, "botengine_tokens_charged_total"));
      assertEquals(1, delta(before, after, "botengine_updates_total{kind=\"command\"}"));
      assertEquals(1, delta(before, after, "botengine_updates_total{kind=\"document\"}"));
      assertEquals(2, delta(before, after,
          "botengine_telegram_calls_total{method=\"sendDocument\",status=\"ok\"}"));
      assertEquals(0, value(after, "botengine_jobs_running"));
      assertEquals(0, value(after, "botengine_outbox_depth"));
    });
    assertTrue(value(scrape(), "botengine_output_latency_seconds_bucket{le=\"120.0\"}") >= 4,
        "latency is a histogram with buckets");
  }

  @Test
  void runnerFailuresAreCountedByCause() {
    String before = scrape();
    long user = 7002;
    runJob(user, RunnerScenario.UPLOAD_500);
    harness.awaitMessages(user, 3);
    harness.awaitAssert(() -> {
      String after = scrape();
      assertEquals(1, delta(before, after, "botengine_runner_errors_total{kind=\"server_error\"}"));
      assertEquals(1,
          delta(before, after, "botengine_jobs_finished_total{outcome=\"upload_failed\"}"));
      assertEquals(0, delta(before, after, "botengine_tokens_charged_total"));
    });
  }

  @Test
  void aStreamThatCannotBeHadIsReconnectedThenPolled() {
    String before = scrape();
    long user = 7003;
    runJob(user, RunnerScenario.STREAM_DOWN);
    harness.awaitAssert(() -> {
      String after = scrape();
      assertEquals(1, delta(before, after, "botengine_runner_polling_fallbacks_total"));
      assertTrue(delta(before, after, "botengine_runner_stream_reconnects_total") >= 1);
      assertEquals(1,
          delta(before, after, "botengine_jobs_finished_total{outcome=\"succeeded\"}"));
    });
  }

  private static double delta(String before, String after, String series) {
    return value(after, series) - value(before, series);
  }
}
