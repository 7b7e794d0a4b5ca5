package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.CapturingAppender;
import io.botengine.testing.LogCapture;
import io.botengine.testing.Scrape;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Seed 004's table end to end: a Runner that cannot be reached, that refuses the engine's key, or
 * that goes quiet reaches the user as its own friendly text (never the raw error), uncharged; the
 * operator sees the cause in the metrics and the logs.
 */
@ExtendWith(LogCapture.class)
class RunnerFailureIntegrationTest {
  private static final long USER = 9201;

  private static String lastTextAfterACv(EngineHarness harness, RunnerScenario scenario) {
    harness.runner.scenarioFor(USER, scenario);
    harness.bot.sendText(USER, "/cv", "en");
    harness.awaitMessages(USER, 1);
    harness.bot.sendDocument(USER, "cv.txt", "text/plain",
        "Jane Doe, Java".getBytes(StandardCharsets.UTF_8));
    harness.awaitAssert(() -> assertTrue(harness.messages(USER).stream()
        .anyMatch(m -> m.text() != null && m.text().contains("no tokens were charged"))));
    List<String> texts = harness.messages(USER).stream().map(m -> String.valueOf(m.text())).toList();
    assertTrue(harness.admin("GET", "/admin/users/" + USER, null).body()
        .contains("\"balance\":1"), "nothing charged");
    return texts.get(texts.size() - 1);
  }

  private static double errors(EngineHarness harness, String kind) {
    return Scrape.value(harness.call("GET", "/metrics", null).body(),
        "botengine_runner_errors_total{kind=\"" + kind + "\"}");
  }

  @Test
  void aRunnerThatCannotBeReached() {
    try (EngineHarness harness = new EngineHarness()) {
      harness.start(Map.of("bot.runner.url", "http://127.0.0.1:1"));
      assertEquals("❌ The analysis service is unavailable right now. Please try again later — "
          + "no tokens were charged.", lastTextAfterACv(harness, RunnerScenario.SEED_001));
      assertTrue(errors(harness, "connection_refused") >= 1);
      assertTrue(CapturingAppender.text().contains("upload failed: "), "the cause is logged");
    }
  }

  @Test
  void aRunnerThatRefusesTheKey() {
    try (EngineHarness harness = new EngineHarness()) {
      harness.start(Map.of("bot.runner.api-key", "not-the-runners-key"));
      String text = lastTextAfterACv(harness, RunnerScenario.SEED_001);
      assertEquals("❌ The analysis service did not accept the bot's request. We are looking into"
          + " it — no tokens were charged.", text);
      assertFalse(text.contains("401"));
      assertEquals(1, errors(harness, "auth_refused"));
    }
  }

  @Test
  void aRunnerThatGoesQuiet() {
    try (EngineHarness harness = new EngineHarness()) {
      harness.start(Map.of("bot.runner.stream-idle-timeout", "1s"));
      assertEquals("❌ The analysis service did not answer in time. Please try again later — no "
          + "tokens were charged.", lastTextAfterACv(harness, RunnerScenario.STALL));
      assertTrue(errors(harness, "timeout") >= 1);
    }
  }
}
