package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Delivery through a misbehaving Bot API: 429s, 5xx, rejected Markdown, a blocked bot. */
@ExtendWith(LogCapture.class)
class DeliveryTest {
  private static EngineHarness harness;
  private static BotApiEmulator bot;

  @BeforeAll
  static void start() {
    harness = new EngineHarness();
    bot = harness.bot;
    harness.start(Map.of("bot.telegram.delivery.max-attempts", 2));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static void submitCv(long user, RunnerScenario scenario) {
    harness.runner.scenarioFor(user, scenario);
    bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
  }

  private static List<String> texts(List<Sent> sent) {
    return sent.stream().map(Sent::text).toList();
  }

  private static List<String> outputs(int count) {
    List<String> expected = new ArrayList<>();
    IntStream.rangeClosed(1, count).forEach(i -> expected.add("Вывод " + i));
    expected.add("✅ Анализ завершён! Списано: 1 токен");
    return expected;
  }

  @Test
  void resendsAfter429WithoutLosingOrReordering() {
    long user = 5001;
    submitCv(user, RunnerScenario.manyOutputs(10, Duration.ofMillis(30)));
    harness.awaitMessages(user, 3);
    bot.failNext("sendMessage", 4, 429, "Too Many Requests: retry after 1", 1);
    List<Sent> sent = harness.awaitMessages(user, 14);
    assertEquals(outputs(10), texts(sent.subList(3, 14)));
  }

  @Test
  void retries5xxWithoutLosingOrReordering() {
    long user = 5002;
    submitCv(user, RunnerScenario.manyOutputs(6, Duration.ofMillis(30)));
    harness.awaitMessages(user, 3);
    bot.failNext("sendMessage", 1, 502, "Bad Gateway", null);
    List<Sent> sent = harness.awaitMessages(user, 10);
    assertEquals(outputs(6), texts(sent.subList(3, 10)));
  }

  @Test
  void keepsOrderWhenTelegramAnswersSlowly() {
    long user = 5007;
    submitCv(user, RunnerScenario.manyOutputs(6, Duration.ZERO));
    harness.awaitMessages(user, 3);
    bot.slowNext("sendMessage", 3, Duration.ofMillis(1500));
    List<Sent> sent = harness.awaitMessages(user, 10);
    assertEquals(outputs(6), texts(sent.subList(3, 10)));
    assertEquals(10, harness.messages(user).size());
  }

  @Test
  void resendsRejectedMarkdownAsPlainText() {
    long user = 5003;
    submitCv(user, RunnerScenario.manyOutputs(2, Duration.ofMillis(500)));
    harness.awaitMessages(user, 3);
    bot.failNext("sendMessage", 1, 400, "Bad Request: can't parse entities: no end", null);
    List<Sent> sent = harness.awaitMessages(user, 6);
    assertEquals(outputs(2), texts(sent.subList(3, 6)));
    assertEquals(1, sent.subList(3, 5).stream().filter(s -> s.parseMode() == null).count(),
        "the rejected output went again as plain text, the other as Markdown");
  }

  @Test
  void givesUpAfterRepeatedFailuresAndTellsTheUserOnce() {
    long user = 5004;
    bot.sendText(user, "/start", "ru");
    harness.awaitMessages(user, 1);
    bot.failNext("sendMessage", 3, 500, "Internal Server Error", null);
    bot.sendText(user, "/balance", "ru");
    bot.sendText(user, "/help", "ru");
    List<Sent> sent = harness.awaitMessages(user, 3);
    assertTrue(sent.get(1).text().startsWith("⚠️ Одно сообщение не удалось доставить"),
        sent.get(1).text());
    assertTrue(sent.get(2).text().startsWith("👋"), sent.get(2).text());
    assertEquals(3, harness.messages(user).size());
  }

  @Test
  void stopsSendingToAChatThatBlockedTheBotAndCancelsItsJobUncharged() {
    long user = 5005;
    submitCv(user, RunnerScenario.manyOutputs(100, Duration.ofMillis(50)));
    harness.awaitMessages(user, 4);
    bot.failNext("sendMessage", 1, 403, "Forbidden: bot was blocked by the user", null);
    harness.awaitAssert(() -> {
      String account = harness.admin("GET", "/admin/users/" + user, null).body();
      assertTrue(account.contains("\"unreachable\":true"), account);
      assertTrue(account.contains("\"state\":\"idle\""), account);
      assertTrue(account.contains("\"balance\":1"), account);
    });
    String taskId = harness.runner.uploads().stream().filter(u -> u.telegramId() == user)
        .findFirst().orElseThrow().taskId();
    harness.awaitAssert(() -> assertTrue(harness.runner.cancelled().contains(taskId)));
    int before = harness.messages(user).size();

    bot.sendText(user, "/start", "ru");
    List<Sent> sent = harness.awaitMessages(user, before + 1);
    assertTrue(sent.get(before).text().startsWith("👋"), "reachable again once the user writes");
    assertTrue(harness.admin("GET", "/admin/users/" + user, null).body()
        .contains("\"unreachable\":false"));
  }

  @Test
  void showsTypingThenOneStatusMessageEditedInPlaceAndRemoved() {
    long user = 5006;
    submitCv(user, RunnerScenario.progressive(12, Duration.ofMillis(100)));
    harness.awaitMessages(user, 5);
    harness.awaitAssert(() -> assertTrue(
        bot.sentTo(user).stream().anyMatch(s -> s.method().equals("deleteMessage"))));
    List<Sent> all = bot.sentTo(user);
    int firstOutput = texts(all).indexOf("Готово");
    int typing = IntStream.range(0, all.size())
        .filter(i -> all.get(i).method().equals("sendChatAction")).findFirst().orElse(-1);
    assertTrue(typing >= 0 && typing < firstOutput, "typing shown before the first output");
    List<Sent> statuses = all.stream().filter(s -> EngineHarness.isStatus(s.text())).toList();
    Sent created = statuses.get(0);
    assertEquals("sendMessage", created.method());
    List<Sent> edits = statuses.subList(1, statuses.size());
    assertTrue(edits.size() >= 1 && edits.size() < 12, "throttled edits: " + edits.size());
    edits.forEach(e -> {
      assertEquals("editMessageText", e.method());
      assertEquals(created.messageId(), e.messageId());
    });
    for (int i = 1; i < edits.size(); i++) {
      long gap = Duration.between(edits.get(i - 1).at(), edits.get(i).at()).toMillis();
      assertTrue(gap >= 250, "edits " + gap + " ms apart, setting is 300 ms");
    }
    Sent deleted = all.stream().filter(s -> s.method().equals("deleteMessage")).findFirst().get();
    assertEquals(created.messageId(), deleted.messageId());
    assertTrue(all.indexOf(deleted) < texts(all).indexOf("✅ Анализ завершён! Списано: 1 токен"),
        "status removed before the final line");
  }
}
