package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerEmulator;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The engine stops in the middle of a job and starts again on the same journal. */
@ExtendWith(LogCapture.class)
class JobRestartTest {
  private final EngineHarness harness = new EngineHarness();

  @AfterEach
  void stop() {
    harness.close();
  }

  @Test
  void resumesAJobAfterARestartWithoutTheUserWriting() {
    long user = 3001;
    harness.start();
    harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(4, Duration.ofMillis(1500)));
    harness.bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    List<Sent> before = harness.awaitMessages(user, 5);
    assertEquals("Вывод 2", before.get(4).text());

    harness.stopEngine();
    harness.start();

    List<Sent> sent = harness.awaitMessages(user, 8);
    List<String> texts = sent.stream().map(Sent::text).toList();
    assertEquals(
        List.of("Вывод 1", "Вывод 2", "Вывод 3", "Вывод 4", "✅ Анализ завершён! Списано: 1 токен"),
        texts.subList(3, 8), texts.toString());
    harness.awaitAssert(() -> assertTrue(harness.admin("GET", "/admin/users/" + user, null)
        .body().contains("\"state\":\"idle\"")));
    assertEquals(8, harness.messages(user).size(), "nothing sent twice");
    assertEquals(1, harness.runner.uploads().size(), "the same Runner task was resumed");
  }

  @Test
  void resumesAfterTheLastDeliveredEventWithARunnerThatDoesNotReplay() {
    long user = 3003;
    harness.start();
    harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(6, Duration.ofMillis(1000)));
    harness.runner.newEventsOnlyFor(user);
    harness.bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    harness.awaitMessages(user, 5);

    harness.stopEngine();
    harness.start();

    List<String> texts = harness.awaitMessages(user, 10).stream().map(Sent::text).toList();
    assertEquals(
        List.of("Вывод 1", "Вывод 2", "Вывод 3", "Вывод 4", "Вывод 5", "Вывод 6",
            "✅ Анализ завершён! Списано: 1 токен"),
        texts.subList(3, 10), texts.toString());
    String task = harness.runner.uploads().get(harness.runner.uploads().size() - 1).taskId();
    List<String> resumedFrom = harness.runner.lastEventIds(task);
    assertTrue(resumedFrom.size() >= 2 && !resumedFrom.get(1).isEmpty(),
        "the resumed stream named the last delivered event: " + resumedFrom);
  }

  /**
   * The engine dies while the Runner holds its answer to the upload (the task exists, the engine
   * never learnt its id), and after the restart the user cancels before Telegram served the file
   * again. The file is then uploaded once more with the job's Idempotency-Key only to find that
   * task, which is cancelled: no task is left running for a job the user cancelled.
   */
  @Test
  void cancelsTheRunnerTaskOfAnUploadCutShortByACrashWhenTheUserCancelsFirst() {
    long user = 3004;
    harness.start(EngineHarness.CRASHABLE);
    harness.runner.scenarioFor(user, RunnerScenario.manyOutputs(3, Duration.ofMillis(100))
        .withUpload(RunnerScenario.UploadReply.HELD_UNTIL_REPEATED));
    harness.bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    harness.awaitAssert(() -> assertEquals(1, harness.runner.uploads().size()));
    String task = harness.runner.uploads().get(0).taskId();

    harness.crashEngine();
    harness.bot.slowNext(BotApiEmulator.FILE_DOWNLOAD, 1, Duration.ofSeconds(4));
    harness.start(EngineHarness.CRASHABLE);
    harness.bot.sendText(user, "/cancel", "ru");

    harness.awaitAssert(() -> assertEquals(List.of(task), harness.runner.cancelled()));
    List<RunnerEmulator.Upload> uploads = harness.runner.uploads();
    assertEquals(2, uploads.size(), uploads.toString());
    assertEquals(task, uploads.get(1).taskId(), "the upload again found the same task");
    List<String> texts = harness.messages(user).stream().map(Sent::text).toList();
    assertEquals("Анализ отменён.", texts.get(texts.size() - 1), texts.toString());
    assertTrue(texts.stream().noneMatch(t -> t != null && t.startsWith("Вывод")),
        texts.toString());
  }

  @Test
  void tellsTheUserWhenTheRunnerCannotBeReachedForTheUpload() {
    long user = 3002;
    harness.start();
    harness.runner.scenarioFor(user, RunnerScenario.SEED_001);
    harness.bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    harness.runner.close();
    harness.bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    List<Sent> sent = harness.awaitMessages(user, 3);
    assertEquals("❌ Сервис анализа сейчас недоступен. Попробуйте позже — токены не списаны.",
        sent.get(2).text());
  }
}
