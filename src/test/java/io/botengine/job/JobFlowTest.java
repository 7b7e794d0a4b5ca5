package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Jobs through the real engine, the Runner emulator and the Bot API emulator over sockets: each
 * Runner behaviour of the contract, asserted on the Telegram calls the emulator recorded.
 */
@ExtendWith(LogCapture.class)
class JobFlowTest {
  private static final byte[] CV = "Иван Петров\nJava, 7 лет".getBytes(StandardCharsets.UTF_8);
  private static final String ANALYSIS =
      "## Анализ CV\n\n**Сильные стороны:** опыт, структура.\n\n**Слабые стороны:** нет цифр.";
  private static EngineHarness harness;
  private static BotApiEmulator bot;
  private static RunnerEmulator runner;

  @BeforeAll
  static void start() {
    harness = new EngineHarness();
    bot = harness.bot;
    runner = harness.runner;
    harness.start(
        Map.of(
            "bot.runner.stream-idle-timeout", "2s",
            "bot.runner.stream-max-failures", 3,
            "bot.runner.poll-interval", "100ms",
            "bot.runner.poll-max-duration", "5s"));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  /** /cv and a TXT file; returns once the prompt and the analysing line arrived. */
  private static void submitCv(long user, RunnerScenario scenario) {
    runner.scenarioFor(user, scenario);
    bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    bot.sendDocument(user, "cv.txt", "text/plain", CV);
  }

  private static List<String> texts(List<Sent> sent) {
    return sent.stream().map(s -> s.method().equals("sendDocument")
        ? "[" + s.fileName() + "] " + s.caption() : s.text()).toList();
  }

  private static String balance(long user) {
    return harness.admin("GET", "/admin/users/" + user, null).body();
  }

  @Test
  void deliversTheSeed001SequenceInOrderAndChargesOnce() {
    long user = 2001;
    submitCv(user, RunnerScenario.SEED_001);
    List<Sent> sent = harness.awaitMessages(user, 8);
    List<String> texts = texts(sent);
    assertEquals("🔄 Анализирую ваше резюме...", texts.get(1));
    assertTrue(texts.get(2).startsWith("Файл получен. Позиция в очереди: "), texts.get(2));
    assertEquals(
        List.of(
            "CV успешно прочитано. Начинаю анализ...",
            "Анализ завершен. Отправляю результат...",
            "[cv_analysis.md] Результат анализа",
            "[recommendations.md] Рекомендации",
            "✅ Анализ завершён! Списано: 1 токен"),
        texts.subList(3, 8));
    assertEquals("Markdown", sent.get(3).parseMode());
    assertArrayEquals(ANALYSIS.getBytes(StandardCharsets.UTF_8), sent.get(5).document());
    RunnerEmulator.Upload upload =
        runner.uploads().stream().filter(u -> u.telegramId() == user).findFirst().orElseThrow();
    assertEquals("cv.txt", upload.fileName());
    assertArrayEquals(CV, upload.content());
    String account = balance(user);
    assertTrue(account.contains("\"balance\":0"), account);
    assertTrue(account.contains("\"key\":\"cv_analysis_" + upload.taskId() + "\""), account);
  }

  @Test
  void understandsDialect1() {
    long user = 2002;
    submitCv(user, RunnerScenario.DIALECT_1);
    List<String> texts = texts(harness.awaitMessages(user, 7));
    assertEquals(
        List.of(
            "CV успешно прочитано. Начинаю анализ...",
            "Анализ завершен. Отправляю результат...",
            "[analysis.md] Результат анализа",
            "✅ Анализ завершён! Списано: 1 токен"),
        texts.subList(3, 7));
  }

  @Test
  void reportsARunnerErrorAndChargesNothing() {
    long user = 2003;
    submitCv(user, RunnerScenario.ERROR_MIDSTREAM);
    List<String> texts = texts(harness.awaitMessages(user, 5));
    assertEquals(
        List.of("CV успешно прочитано. Начинаю анализ...", "❌ Ошибка обработки файла"),
        texts.subList(3, 5));
    harness.awaitAssert(() -> assertTrue(balance(user).contains("\"reserved\":0")));
    assertTrue(balance(user).contains("\"balance\":1"), balance(user));
  }

  @Test
  void resumesADroppedStreamWithoutRepeatingOrSkipping() {
    long user = 2004;
    submitCv(user, RunnerScenario.DROP_AND_RESUME);
    List<String> texts = texts(harness.awaitMessages(user, 8));
    assertEquals(
        List.of("Вывод 1", "Вывод 2", "Вывод 3", "[cv_analysis.md] Вывод 4",
            "✅ Анализ завершён! Списано: 1 токен"),
        texts.subList(3, 8));
    String taskId = taskOf(user);
    assertTrue(runner.streamConnections(taskId) >= 2);
    assertFalse(runner.lastEventIds(taskId).stream().allMatch(id -> id == null),
        "the reconnect sent Last-Event-ID");
  }

  @Test
  void dropsOutputsAServerReplaysAfterReconnecting() {
    long user = 2005;
    submitCv(user, RunnerScenario.REPLAY_ON_RECONNECT);
    List<String> texts = texts(harness.awaitMessages(user, 8));
    assertEquals(
        List.of("Вывод 1", "Вывод 2", "Вывод 3", "[cv_analysis.md] Вывод 4",
            "✅ Анализ завершён! Списано: 1 токен"),
        texts.subList(3, 8));
  }

  @Test
  void putsDuplicateAndOutOfOrderOutputsInOrderOnce() {
    long user = 2006;
    submitCv(user, RunnerScenario.DUPLICATES_AND_OUT_OF_ORDER);
    List<String> texts = texts(harness.awaitMessages(user, 8));
    assertEquals(
        List.of("Вывод 1", "Вывод 2", "Вывод 3", "Вывод 4", "✅ Анализ завершён! Списано: 1 токен"),
        texts.subList(3, 8));
  }

  @Test
  void dropsAnAbsurdIndexDeliversTheOutputsAfterItAndChargesNothing() {
    long user = 2013;
    submitCv(user, RunnerScenario.ABSURD_INDEX);
    List<String> texts = texts(harness.awaitMessages(user, 7));
    assertEquals(
        List.of("Вывод 1", "Вывод 2", "Вывод 3",
            "⚠️ Анализ завершён, но часть результатов не удалось доставить. Токены не списаны."),
        texts.subList(3, 7));
    harness.awaitAssert(() -> assertTrue(balance(user).contains("\"state\":\"idle\"")));
    String account = balance(user);
    assertTrue(account.contains("\"balance\":1") && account.contains("\"reserved\":0"), account);
    assertFalse(account.contains("cv_analysis_"), account);
    assertFalse(texts(harness.messages(user)).contains("Вывод 10^15"));
  }

  @Test
  void skipsGarbageFrames() {
    long user = 2007;
    submitCv(user, RunnerScenario.GARBAGE);
    List<String> texts = texts(harness.awaitMessages(user, 7));
    assertEquals(
        List.of("Вывод 1", "Вывод 2", "Вывод 3", "✅ Анализ завершён! Списано: 1 токен"),
        texts.subList(3, 7));
  }

  @Test
  void pollsWhenTheStreamIsDown() {
    long user = 2008;
    submitCv(user, RunnerScenario.STREAM_DOWN);
    List<Sent> sent = harness.awaitMessages(user, 5);
    assertEquals("cv_result.md", sent.get(3).fileName());
    assertArrayEquals(ANALYSIS.getBytes(StandardCharsets.UTF_8), sent.get(3).document());
    assertEquals("✅ Анализ завершён! Списано: 1 токен", sent.get(4).text());
  }

  @Test
  void tellsTheUserWhenTheUploadFailsAndChargesNothing() {
    long user = 2009;
    submitCv(user, RunnerScenario.UPLOAD_500);
    List<String> texts = texts(harness.awaitMessages(user, 3));
    assertEquals("Ошибка загрузки файла", texts.get(2));
    harness.awaitAssert(() -> assertTrue(balance(user).contains("\"state\":\"idle\"")));
    assertTrue(balance(user).contains("\"balance\":1"), balance(user));
    bot.sendText(user, "/cv", "ru");
    assertTrue(harness.awaitMessages(user, 4).get(3).text().startsWith("📄"));
  }

  @Test
  void timesOutAStalledStreamAndChargesNothing() {
    long user = 2010;
    submitCv(user, RunnerScenario.STALL);
    List<String> texts = texts(harness.awaitMessages(user, 5));
    assertEquals(
        List.of("CV успешно прочитано. Начинаю анализ...",
            "❌ Сервис анализа не ответил вовремя. Попробуйте позже — токены не списаны."),
        texts.subList(3, 5));
    harness.awaitAssert(() -> assertTrue(balance(user).contains("\"reserved\":0")));
    assertTrue(balance(user).contains("\"balance\":1"), balance(user));
  }

  @Test
  void cancelsRunningJobOnCvReentryAndSendsNothingOfItAfterTheReply() {
    long user = 2011;
    submitCv(user, RunnerScenario.manyOutputs(200, Duration.ofMillis(20)));
    harness.awaitMessages(user, 5);
    bot.sendText(user, "/cv", "ru");
    harness.awaitAssert(() -> assertTrue(runner.cancelled().contains(taskOf(user))));
    bot.sendText(user, "/balance", "ru");
    harness.awaitAssert(() -> assertTrue(
        harness.messages(user).stream().anyMatch(s -> s.text() != null && s.text().startsWith("💰"))));
    List<String> texts = texts(harness.messages(user));
    int reply = texts.indexOf("Анализ отменён.");
    assertTrue(reply > 0, texts.toString());
    assertTrue(texts.get(reply + 1).startsWith("📄"), texts.toString());
    assertTrue(texts.subList(reply, texts.size()).stream().noneMatch(t -> t.startsWith("Вывод")),
        "nothing of the old job after the re-entry reply: " + texts);
    assertTrue(balance(user).contains("\"balance\":1"), balance(user));
    assertTrue(balance(user).contains("\"state\":\"waiting_for_file\""), balance(user));
  }

  @Test
  void answersADocumentDuringProcessingWithoutASecondJob() {
    long user = 2012;
    submitCv(user, RunnerScenario.SEED_001.withPacing(Duration.ofMillis(500)));
    harness.awaitMessages(user, 3);
    bot.sendDocument(user, "cv2.txt", "text/plain", CV);
    harness.awaitAssert(() -> assertTrue(texts(harness.messages(user)).contains(
        "⏳ Предыдущий анализ ещё выполняется. Дождитесь результата или отправьте /cancel.")));
    List<String> texts = texts(harness.awaitMessages(user, 9));
    assertEquals("✅ Анализ завершён! Списано: 1 токен", texts.get(8));
    assertEquals(1, runner.uploads().stream().filter(u -> u.telegramId() == user).count());
  }

  private static String taskOf(long user) {
    return runner.uploads().stream()
        .filter(u -> u.telegramId() == user)
        .reduce((a, b) -> b)
        .orElseThrow()
        .taskId();
  }
}
