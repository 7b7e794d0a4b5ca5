package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.CapturingAppender;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A whole job end to end, then the two downloads that made Akka's connection pool print the file
 * URL, bot token included: one whose declared length is over the limit, and one still stalled when
 * the engine stops. The whole log of the run must contain neither the token, nor the Runner's key,
 * nor the admin token, nor anything of the file's content.
 */
@ExtendWith(LogCapture.class)
class BotTokenLogTest {
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

  @Test
  void noLogLineCarriesTheTokenWhenDownloadsAreRefusedOrCutByShutdown() {
    BotApiEmulator bot = harness.bot;
    String secretPart = EngineHarness.TOKEN.substring(EngineHarness.TOKEN.indexOf(':') + 1);

    long whole = 5100;
    String marker = "CV-CONTENT-7f3a9c";
    harness.runner.scenarioFor(whole, RunnerScenario.SEED_001);
    bot.sendText(whole, "/cv", "ru");
    harness.awaitMessages(whole, 1);
    bot.sendDocument(whole, "cv.txt", "text/plain",
        ("Иван Иванов " + marker).getBytes(StandardCharsets.UTF_8));
    harness.awaitAssert(() -> assertTrue(harness.messages(whole).stream()
        .anyMatch(m -> "✅ Анализ завершён! Списано: 1 токен".equals(m.text()))));
    assertEquals(200, harness.admin("GET", "/admin/users/" + whole, null).statusCode());

    long big = 5101;
    bot.sendText(big, "/cv", "en");
    harness.awaitMessages(big, 1);
    // Telegram says 10 bytes; the download itself declares 2 MB, over the 1 MB limit.
    bot.sendDocument(big, "cv.pdf", "application/pdf", new byte[2 * 1024 * 1024], 10);
    assertEquals("❌ The file is too large. Maximum 1 MB.", harness.awaitMessages(big, 2).get(1).text());

    long stalled = 5102;
    bot.sendText(stalled, "/cv", "en");
    harness.awaitMessages(stalled, 1);
    int before = bot.downloadsReceived();
    bot.slowNext(BotApiEmulator.FILE_DOWNLOAD, 1, Duration.ofMinutes(1));
    bot.sendDocument(stalled, "cv.pdf", "application/pdf", "%PDF-1.4 cv".getBytes());
    harness.awaitAssert(() -> assertTrue(bot.downloadsReceived() > before));
    harness.stopEngine();

    String log = CapturingAppender.text();
    assertTrue(log.contains("file download failed: the node is stopping"),
        "the stalled download was cut while the node could still log it");
    assertFalse(log.contains(secretPart), "a log line carries the bot token:\n" + grep(log, secretPart));
    for (String secret : new String[] {EngineHarness.RUNNER_KEY, EngineHarness.ADMIN_TOKEN, marker}) {
      assertFalse(log.contains(secret), "a log line carries " + secret + ":\n" + grep(log, secret));
    }
  }

  private static String grep(String log, String part) {
    return log.lines().filter(l -> l.contains(part)).reduce("", (a, b) -> a + b + "\n");
  }
}
