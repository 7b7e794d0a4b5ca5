package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import io.botengine.testing.Rates;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Telegram's limits for real: a bot limited to 30 calls/s with 429s injected still delivers
 * everything, once and in order, and never exceeds the rate (measured at the emulator; a small
 * tolerance covers network jitter). Per-chat rate is off here so one chat can use the whole bot
 * rate; {@link ChatRateTest} covers the per-chat limit.
 */
@ExtendWith(LogCapture.class)
class DeliveryLoadTest {
  private static final int RATE = 30;
  private static final int TOLERANCE = 3;
  private EngineHarness harness;

  @BeforeEach
  void start() {
    harness = new EngineHarness();
    harness.start(Map.of(
        "bot.telegram.delivery.global-rate", RATE,
        "bot.telegram.delivery.chat-rate", 0));
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private void submitCv(long user) {
    harness.bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
  }

  private void assertRateKept() {
    List<Instant> times = harness.bot.sent().stream().map(Sent::at).toList();
    int peak = Rates.maxInWindow(times, Duration.ofSeconds(1));
    System.out.printf("%s: %d Bot API calls, peak %d in one second (limit %d)%n",
        getClass().getSimpleName(), times.size(), peak, RATE);
    assertTrue(peak <= RATE + TOLERANCE, "peak " + peak + " calls in one second");
  }

  @Test
  void deliversAThousandOutputsToOneChatInOrderThrough429s() {
    long user = 6001;
    harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(1000, Duration.ZERO));
    submitCv(user);
    harness.awaitMessages(user, 103);
    harness.bot.failNext("sendMessage", 5, 429, "Too Many Requests: retry after 1", 1);
    List<String> texts = harness.awaitMessages(user, 1004, Duration.ofSeconds(150)).stream()
        .map(Sent::text).toList();
    for (int i = 1; i <= 1000; i++) {
      assertEquals("Вывод " + i, texts.get(2 + i), "position of output " + i);
    }
    assertEquals("✅ Анализ завершён! Списано: 1 токен", texts.get(1003));
    assertEquals(1004, texts.size());
    assertRateKept();
  }

  @Test
  void deliversAHundredJobsToAHundredChatsThrough429s() {
    for (long user = 7000; user < 7100; user++) {
      harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(1, Duration.ZERO));
      harness.bot.sendText(user, "/cv", "ru");
    }
    harness.bot.failNext("sendMessage", 10, 429, "Too Many Requests: retry after 1", 1);
    for (long user = 7000; user < 7100; user++) {
      harness.awaitMessages(user, 1, Duration.ofSeconds(60));
      harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    }
    for (long user = 7000; user < 7100; user++) {
      List<String> texts = harness.awaitMessages(user, 5, Duration.ofSeconds(90)).stream()
          .map(Sent::text).toList();
      assertEquals(List.of("Вывод 1", "✅ Анализ завершён! Списано: 1 токен"),
          texts.subList(3, 5), "user " + user);
      assertEquals(5, texts.size(), "user " + user);
    }
    assertRateKept();
  }

  @Test
  void drawsNo429FromAStrictOneSecondWindowAndAnswersANewUserAheadOfTheOutputs() {
    harness.bot.strictRate(RATE);
    for (long user = 7200; user < 7260; user++) {
      harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(3, Duration.ZERO));
      harness.bot.sendText(user, "/cv", "ru");
    }
    for (long user = 7200; user < 7260; user++) {
      harness.awaitMessages(user, 1, Duration.ofSeconds(60));
      harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    }
    harness.awaitAssert(() -> assertTrue(harness.messages(7200).size() >= 4));
    long newcomer = 7300;
    Instant asked = Instant.now();
    harness.bot.sendText(newcomer, "/start", "ru");
    harness.awaitMessages(newcomer, 1, Duration.ofSeconds(1));
    Duration answeredIn = Duration.between(asked, harness.messages(newcomer).get(0).at());
    for (long user = 7200; user < 7260; user++) {
      harness.awaitMessages(user, 7, Duration.ofSeconds(90));
    }
    System.out.printf("%s: /start answered in %d ms while 60 jobs streamed at the limit;"
        + " %d calls refused by a strict %d/s window%n", getClass().getSimpleName(),
        answeredIn.toMillis(), harness.bot.rateRefusals(), RATE);
    assertEquals(0, harness.bot.rateRefusals(), "calls over " + RATE + " in one second");
  }
}
