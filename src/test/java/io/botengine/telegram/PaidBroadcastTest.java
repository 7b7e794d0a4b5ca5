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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** With Telegram's paid broadcasts on, messages go flagged and the bot may pass the free 30/s. */
@ExtendWith(LogCapture.class)
class PaidBroadcastTest {
  private final EngineHarness harness = new EngineHarness();

  @AfterEach
  void stop() {
    harness.close();
  }

  @Test
  void sendsEveryMessageAsAPaidBroadcastFasterThanTheFreeLimit() {
    harness.start(Map.of(
        "bot.telegram.delivery.paid-broadcast", true,
        "bot.telegram.delivery.paid-broadcast-rate", 200,
        "bot.telegram.delivery.chat-rate", 0));
    List<Long> users = java.util.stream.LongStream.range(8100, 8120).boxed().toList();
    for (long user : users) {
      harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(20, Duration.ZERO));
      harness.bot.sendText(user, "/cv", "ru");
    }
    for (long user : users) {
      harness.awaitMessages(user, 1);
      harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    }
    for (long user : users) {
      List<Sent> sent = harness.awaitMessages(user, 24, Duration.ofSeconds(60));
      assertEquals("✅ Анализ завершён! Списано: 1 токен", sent.get(23).text(), "user " + user);
    }
    List<Instant> times = harness.bot.sent().stream().map(Sent::at).toList();
    int peak = Rates.maxInWindow(times, Duration.ofSeconds(1));
    System.out.printf("PaidBroadcastTest: %d calls, %d as paid broadcasts, peak %d in one second%n",
        times.size(), harness.bot.paidBroadcasts(), peak);
    assertTrue(harness.bot.paidBroadcasts() >= users.size() * 24,
        "paid broadcasts: " + harness.bot.paidBroadcasts());
    assertTrue(peak > 40, "peak " + peak + " calls in one second, the free limit is 30");
  }
}
