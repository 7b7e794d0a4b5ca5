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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The default per-chat limit (1 message/s, burst 3) holds for a job's burst of outputs. */
@ExtendWith(LogCapture.class)
class ChatRateTest {
  private final EngineHarness harness = new EngineHarness();

  @AfterEach
  void stop() {
    harness.close();
  }

  @Test
  void keepsOneChatWithinItsRate() {
    harness.start(Map.of(
        "bot.telegram.delivery.chat-rate", 1,
        "bot.telegram.delivery.chat-burst", 3));
    long user = 8001;
    harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(5, Duration.ZERO));
    harness.bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    List<Sent> sent = harness.awaitMessages(user, 9, Duration.ofSeconds(30));
    assertEquals("✅ Анализ завершён! Списано: 1 токен", sent.get(8).text());
    double excess = Rates.excessOverBucket(
        harness.bot.sentTo(user).stream().map(Sent::at).toList(), 1, 3);
    System.out.printf("ChatRateTest: %d calls to one chat, worst excess over 1/s burst 3: %.2f%n",
        harness.bot.sentTo(user).size(), excess);
    assertTrue(excess <= 0.5, "excess " + excess);
  }
}
