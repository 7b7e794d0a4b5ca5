package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Many jobs at once on one node: every stream is held and every output arrives, in order. */
@ExtendWith(LogCapture.class)
class ConcurrentJobsTest {
  private static final int USERS = 200;
  private static final int OUTPUTS = 3;
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
  void runs200ConcurrentJobsToTheEnd() {
    // Outputs are spaced so that all 200 streams are open at the same time.
    RunnerScenario scenario = RunnerScenario.manyOutputs(OUTPUTS, Duration.ofSeconds(1));
    for (long user = 10_000; user < 10_000 + USERS; user++) {
      harness.runner.scenarioFor(user, scenario);
      harness.bot.sendText(user, "/cv", "ru");
    }
    for (long user = 10_000; user < 10_000 + USERS; user++) {
      harness.awaitMessages(user, 1);
      harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    }
    Duration wait = Duration.ofSeconds(90);
    for (long user = 10_000; user < 10_000 + USERS; user++) {
      List<String> texts =
          harness.awaitMessages(user, 3 + OUTPUTS + 1, wait).stream().map(Sent::text).toList();
      assertEquals(
          List.of("Вывод 1", "Вывод 2", "Вывод 3", "✅ Анализ завершён! Списано: 1 токен"),
          texts.subList(3, 3 + OUTPUTS + 1), "user " + user);
    }
    assertEquals(USERS, harness.runner.uploads().size());
  }

  @Test
  void aBurstOfUploadsWaitsForTheDownloadConnectionsInsteadOfBeingRefused() {
    // Files asked for faster than they arrive (each takes a second) wait for a connection: the
    // benchmark saw Akka HTTP's pool refuse such a burst with "send the file again" (unit-tested
    // in BoundedCallsTest; at this size the pool's queue of 256 held).
    int users = 200;
    long first = 20_000;
    RunnerScenario scenario = RunnerScenario.manyOutputs(1, Duration.ZERO);
    for (long user = first; user < first + users; user++) {
      harness.runner.scenarioFor(user, scenario);
      harness.bot.sendText(user, "/cv", "ru");
    }
    for (long user = first; user < first + users; user++) {
      harness.awaitMessages(user, 1);
    }
    harness.bot.slowNext(BotApiEmulator.FILE_DOWNLOAD, users, Duration.ofSeconds(1));
    for (long user = first; user < first + users; user++) {
      harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    }
    for (long user = first; user < first + users; user++) {
      List<String> texts = harness.awaitMessages(user, 3 + 1 + 1, Duration.ofSeconds(90))
          .stream().map(Sent::text).toList();
      assertEquals(List.of("Вывод 1", "✅ Анализ завершён! Списано: 1 токен"),
          texts.subList(3, 5), "user " + user + ": " + texts);
    }
  }
}
