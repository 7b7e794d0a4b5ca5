package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerEmulator;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Streamed answers (Runner protocol section 6) through the real engine and both emulators over
 * sockets: what the user saw, asserted from the Bot API emulator's record, in order and once.
 */
@ExtendWith(LogCapture.class)
class StreamedOutputTest {
  private static final byte[] CV = "Иван Петров\nJava, 7 лет".getBytes(StandardCharsets.UTF_8);
  private static final String FIRST = "CV успешно прочитано. Начинаю анализ...";
  private static final String ANALYSIS =
      "## Анализ CV\n\n*Сильные стороны:* пять лет с Java и Akka, ясная структура, проекты с"
          + " нагрузкой.\n\n*Слабые стороны:* мало цифр в последних двух местах работы, нет"
          + " ссылок на код.\n\n*Итог:* сильное резюме; добавьте результаты в числах.";
  private static final int TOKENS = ANALYSIS.split("(?<=\\s)(?=\\S)").length;
  private static final String DONE = "✅ Анализ завершён! Списано: 1 токен";
  private static EngineHarness harness;
  private static BotApiEmulator bot;
  private static RunnerEmulator runner;

  @BeforeAll
  static void start() {
    harness = new EngineHarness();
    bot = harness.bot;
    runner = harness.runner;
    harness.start(settings());
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  /** Telegram's own chat rate, so previews take their turn with the other calls. */
  private static Map<String, Object> settings() {
    return Map.of(
        "bot.telegram.delivery.chat-rate", 5,
        "bot.telegram.delivery.chat-burst", 3,
        "bot.streaming.preview-interval", "200ms",
        "bot.streaming.edit-interval", "300ms");
  }

  private static RunnerScenario streamed(Duration pacing) {
    return RunnerScenario.streamed("STREAMED_TEST", ANALYSIS, pacing);
  }

  private static void submitCv(EngineHarness on, long user, RunnerScenario scenario) {
    on.runner.scenarioFor(user, scenario);
    on.bot.sendText(user, "/cv", "ru");
    on.awaitMessages(user, 1);
    on.bot.sendDocument(user, "cv.txt", "text/plain", CV);
  }

  /** Everything the user saw change in the chat, in order ("typing" left out). */
  private static List<Sent> seen(EngineHarness on, long user) {
    return on.bot.sentTo(user).stream()
        .filter(s -> !s.method().equals("sendChatAction")).toList();
  }

  private static List<Sent> drafts(List<Sent> seen) {
    return seen.stream().filter(s -> s.method().equals("sendMessageDraft")).toList();
  }

  private static int indexOf(List<Sent> seen, String method, String text) {
    return IntStream.range(0, seen.size())
        .filter(i -> seen.get(i).method().equals(method) && text.equals(seen.get(i).text()))
        .findFirst().orElse(-1);
  }

  private static long count(List<Sent> seen, String method, String text) {
    return seen.stream().filter(s -> s.method().equals(method) && text.equals(s.text())).count();
  }

  /** Waits for the job's last message. */
  private static void awaitDone(EngineHarness on, long user) {
    on.awaitAssert(() -> assertTrue(on.messages(user).stream().anyMatch(s -> DONE.equals(s.text())),
        on.messages(user).toString()));
  }

  /** Each output once and in order, the analysis kept as a Markdown message. */
  private static void assertEachOutputOnceInOrder(List<Sent> seen) {
    int first = indexOf(seen, "sendMessage", FIRST);
    int kept = indexOf(seen, "sendMessage", ANALYSIS);
    int file = IntStream.range(0, seen.size())
        .filter(i -> "recommendations.md".equals(seen.get(i).fileName())).findFirst().orElse(-1);
    int done = indexOf(seen, "sendMessage", DONE);
    assertTrue(0 <= first && first < kept && kept < file && file < done, seen.toString());
    assertEquals(1, count(seen, "sendMessage", FIRST), seen.toString());
    assertEquals(1, count(seen, "sendMessage", ANALYSIS), seen.toString());
    assertEquals("Markdown", seen.get(kept).parseMode());
    assertEquals(1, seen.stream().filter(s -> "recommendations.md".equals(s.fileName())).count());
  }

  @Test
  void showsTheAnalysisGrowingInADraftThenKeepsItAsAMessage() {
    long user = 7001;
    submitCv(harness, user, streamed(Duration.ofMillis(60)));
    awaitDone(harness, user);

    List<Sent> seen = seen(harness, user);
    assertEachOutputOnceInOrder(seen);
    List<Sent> drafts = drafts(seen);
    assertTrue(drafts.size() >= 2, "the answer grew live: " + drafts);
    assertTrue(drafts.size() < TOKENS, "deltas coalesced: " + drafts.size() + " of " + TOKENS);
    int first = indexOf(seen, "sendMessage", FIRST);
    int kept = indexOf(seen, "sendMessage", ANALYSIS);
    for (int i = 0; i < drafts.size(); i++) {
      Sent draft = drafts.get(i);
      int at = seen.indexOf(draft);
      assertTrue(first < at && at < kept, "drafts between output 1 and the analysis: " + seen);
      assertTrue(ANALYSIS.startsWith(draft.text()), draft.text());
      assertEquals(drafts.get(0).messageId(), draft.messageId(), "one draft, growing");
      if (i > 0) {
        assertTrue(draft.text().length() > drafts.get(i - 1).text().length(), drafts.toString());
      }
    }
  }

  @Test
  void editsAMessageAsItGrowsWhenTelegramRefusesDraftsAndFinishesItWithTheFullText() {
    long user = 7002;
    bot.refuseDrafts(true);
    try {
      submitCv(harness, user, streamed(Duration.ofMillis(60)));
      awaitDone(harness, user);
    } finally {
      bot.refuseDrafts(false);
    }
    List<Sent> seen = seen(harness, user);
    assertTrue(drafts(seen).isEmpty());
    int first = indexOf(seen, "sendMessage", FIRST);
    Sent preview = seen.get(first + 1);
    assertEquals("sendMessage", preview.method());
    assertTrue(ANALYSIS.startsWith(preview.text()) && preview.parseMode() == null, seen.toString());
    List<Sent> edits = seen.stream().filter(s -> s.method().equals("editMessageText")
        && s.messageId() == preview.messageId()).toList();
    Sent last = edits.get(edits.size() - 1);
    assertEquals(ANALYSIS, last.text(), "the last edit is the full text");
    assertEquals("Markdown", last.parseMode());
    assertTrue(edits.size() < TOKENS, "edits coalesced: " + edits.size());
    assertEquals(0, count(seen, "sendMessage", ANALYSIS), "the edited message is the delivery");
    assertFalse(seen.stream().anyMatch(s -> s.method().equals("deleteMessage")
        && s.messageId() == preview.messageId()));
    int file = IntStream.range(0, seen.size())
        .filter(i -> "recommendations.md".equals(seen.get(i).fileName())).findFirst().orElse(-1);
    assertTrue(seen.indexOf(last) < file, "then the next output: " + seen);
  }

  @Test
  void endsTheDraftOnCancelAndSendsNothingAfterTheReply() {
    long user = 7003;
    submitCv(harness, user, streamed(Duration.ofMillis(300)));
    harness.awaitAssert(() -> assertFalse(drafts(seen(harness, user)).isEmpty()));

    bot.sendText(user, "/cancel", "ru");
    harness.awaitAssert(() -> assertTrue(indexOf(seen(harness, user), "sendMessage",
        "Анализ отменён.") >= 0, seen(harness, user).toString()));
    String taskId = runner.uploads().stream().filter(u -> u.telegramId() == user)
        .findFirst().orElseThrow().taskId();
    harness.awaitAssert(() -> assertTrue(runner.cancelled().contains(taskId)));
    bot.sendText(user, "/balance", "ru");
    int cancelled = indexOf(seen(harness, user), "sendMessage", "Анализ отменён.");
    harness.awaitAssert(() -> assertTrue(seen(harness, user).size() > cancelled + 1));

    List<Sent> after = seen(harness, user).subList(cancelled + 1, seen(harness, user).size());
    assertEquals(1, after.size(), "only the balance: " + after);
    assertTrue(after.get(0).text().contains("1"), after.toString());
    assertEquals(0, count(seen(harness, user), "sendMessage", ANALYSIS));
  }

  @Test
  void deletesTheEditedPreviewOnCancel() {
    long user = 7004;
    bot.refuseDrafts(true);
    try {
      submitCv(harness, user, streamed(Duration.ofMillis(300)));
      int[] preview = new int[1];
      harness.awaitAssert(() -> {
        List<Sent> seen = seen(harness, user);
        int first = indexOf(seen, "sendMessage", FIRST);
        assertTrue(first >= 0 && seen.size() > first + 1, seen.toString());
        preview[0] = (int) seen.get(first + 1).messageId();
      });
      bot.sendText(user, "/cancel", "ru");
      harness.awaitAssert(() -> assertTrue(seen(harness, user).stream().anyMatch(s ->
          s.method().equals("deleteMessage") && s.messageId() == preview[0]),
          seen(harness, user).toString()));
    } finally {
      bot.refuseDrafts(false);
    }
    assertEquals(0, count(seen(harness, user), "sendMessage", ANALYSIS));
  }

  @Test
  void startsThePreviewAgainWhenTheRunnerReplaysDeltasAfterAReconnect() {
    long user = 7005;
    RunnerScenario dropped = streamed(Duration.ofMillis(40))
        .interruptedOnceAfter(1 + TOKENS / 2, RunnerScenario.Interruption.DROP);
    submitCv(harness, user, dropped);
    awaitDone(harness, user);

    List<Sent> seen = seen(harness, user);
    assertEachOutputOnceInOrder(seen);
    drafts(seen).forEach(d -> assertTrue(ANALYSIS.startsWith(d.text()),
        "replayed deltas are not appended twice: " + d.text()));
    String taskId = runner.uploads().stream().filter(u -> u.telegramId() == user)
        .findFirst().orElseThrow().taskId();
    assertTrue(runner.streamConnections(taskId) >= 2);
    assertEquals("1", runner.lastEventIds(taskId).get(1), "resumed after output 1");
  }

  @Test
  void finishesTheEditedPreviewOfTheStoppedNodeInsteadOfSendingAnother() {
    long user = 7007;
    try (EngineHarness own = new EngineHarness()) {
      own.bot.refuseDrafts(true);
      own.start(settings());
      submitCv(own, user, streamed(Duration.ofMillis(150)));
      long[] preview = new long[1];
      own.awaitAssert(() -> {
        List<Sent> seen = seen(own, user);
        int first = indexOf(seen, "sendMessage", FIRST);
        assertTrue(first >= 0 && seen.size() > first + 2, seen.toString());
        preview[0] = seen.get(first + 1).messageId();
      });
      own.stopEngine();
      own.start(settings());
      awaitDone(own, user);

      List<Sent> seen = seen(own, user);
      int first = indexOf(seen, "sendMessage", FIRST);
      List<Sent> previews = seen.subList(first + 1, seen.size()).stream()
          .filter(s -> s.method().equals("sendMessage") && ANALYSIS.startsWith(s.text()))
          .toList();
      assertEquals(1, previews.size(), "one preview message across the restart: " + seen);
      List<Sent> edits = seen.stream().filter(s -> s.method().equals("editMessageText")
          && s.messageId() == preview[0]).toList();
      assertEquals(ANALYSIS, edits.get(edits.size() - 1).text(), "finished by the new node");
      assertFalse(seen.stream().anyMatch(s -> s.method().equals("deleteMessage")
          && s.messageId() == preview[0]), seen.toString());
      assertEquals(0, count(seen, "sendMessage", ANALYSIS));
    }
  }

  @Test
  void startsThePreviewAgainAfterARestartAndDeliversEachOutputOnce() {
    long user = 7006;
    try (EngineHarness own = new EngineHarness()) {
      own.start(settings());
      submitCv(own, user, streamed(Duration.ofMillis(150)));
      own.awaitAssert(() -> assertTrue(drafts(seen(own, user)).size() >= 2));
      own.stopEngine();
      Instant restarted = Instant.now();
      own.start(settings());
      awaitDone(own, user);

      List<Sent> seen = seen(own, user);
      assertEachOutputOnceInOrder(seen);
      assertTrue(drafts(seen).stream().anyMatch(d -> d.at().isAfter(restarted)),
          "the preview started again: " + drafts(seen));
      drafts(seen).forEach(d -> assertTrue(ANALYSIS.startsWith(d.text()), d.text()));
      assertEquals(1, own.runner.uploads().size(), "the same Runner task was resumed");
    }
  }
}
