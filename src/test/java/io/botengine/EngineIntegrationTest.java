package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The engine over real sockets in polling mode: commands, files, the admin API, a restart. */
@ExtendWith(LogCapture.class)
class EngineIntegrationTest {
  private static EngineHarness harness;
  private static BotApiEmulator bot;

  @BeforeAll
  static void start() {
    harness = new EngineHarness();
    bot = harness.bot;
    harness.start();
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static String last(long user, int count) {
    List<Sent> sent = harness.awaitMessages(user, count);
    return sent.get(count - 1).text();
  }

  @Test
  void answersCommandsOverLongPolling() {
    long user = 1001;
    bot.sendText(user, "/start", "ru");
    assertTrue(last(user, 1).startsWith("👋 Я анализирую резюме"));
    bot.sendText(user, "/balance", "ru");
    assertEquals("💰 Баланс: 1 токен\n📅 Подписка: не оформлена", last(user, 2));
    bot.sendText(user, "/balance", "en");
    assertEquals("💰 Balance: 1 token\n📅 Subscription: none", last(user, 3));
  }

  @Test
  void handlesARedeliveredUpdateOnce() {
    long user = 1002;
    long id = bot.sendText(user, "/balance", "ru");
    harness.awaitMessages(user, 1);
    bot.redeliver(id);
    bot.sendText(user, "/help", "ru");
    List<Sent> sent = harness.awaitMessages(user, 2);
    assertTrue(sent.get(1).text().startsWith("👋"), "the re-delivered /balance got no second answer");
    harness.awaitAssert(() -> assertTrue(bot.confirmedOffset() > id));
    assertEquals(2, harness.messages(user).size());
  }

  @Test
  void refusesAnOversizedFileBeforeDownloadingIt() {
    long user = 1003;
    bot.sendText(user, "/cv", "ru");
    assertTrue(last(user, 1).startsWith("📄 <b>Анализ CV</b>"));
    long getFilesBefore = bot.callLog().stream().filter("getFile"::equals).count();
    bot.sendDocument(user, "cv.pdf", "application/pdf", new byte[10], 2 * 1024 * 1024);
    assertEquals("❌ Файл слишком большой. Максимум 1 МБ.", last(user, 2));
    assertEquals(getFilesBefore, bot.callLog().stream().filter("getFile"::equals).count());
  }

  @Test
  void checksAFileByItsContentNotItsName() {
    long user = 1004;
    bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    bot.sendDocument(user, "cv.pdf", "application/pdf", new byte[] {'P', 'K', 3, 4, 0, 1});
    assertEquals("❌ Неверный формат файла. Поддерживаются только PDF и TXT.", last(user, 2));
    bot.sendDocument(user, "cv.txt", "text/plain", new byte[0]);
    assertEquals("❌ Файл пустой.", last(user, 3));
    bot.sendText(user, "what now?", "ru");
    assertTrue(last(user, 4).startsWith("❌ Пожалуйста, отправьте файл.\n\n📄"));
  }

  @Test
  void remembersConversationAndBalanceAcrossARestart() {
    long user = 1005;
    bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    HttpResponse<String> credit = harness.admin("POST", "/admin/users/" + user + "/credit",
        "{\"amount\": 3, \"reason\": \"promo\", \"idempotency_key\": \"promo-1005\"}");
    assertEquals(200, credit.statusCode(), credit.body());

    harness.stopEngine();
    harness.start();

    harness.runner.scenarioFor(user, RunnerScenario.SEED_001);
    bot.sendDocument(user, "cv.txt", "text/plain",
        "Иван Петров, Java".getBytes(StandardCharsets.UTF_8));
    List<Sent> sent = harness.awaitMessages(user, 8);
    assertEquals("🔄 Анализирую ваше резюме...", sent.get(1).text());
    assertEquals("✅ Анализ завершён! Списано: 1 токен", sent.get(7).text());
    HttpResponse<String> account = harness.admin("GET", "/admin/users/" + user, null);
    assertTrue(account.body().contains("\"balance\":3"), account.body());
    assertTrue(account.body().contains("\"state\":\"idle\""), account.body());
  }

  @Test
  void blockedUserIsToldSoOnCv() {
    long user = 1006;
    bot.sendText(user, "/start", "ru");
    harness.awaitMessages(user, 1);
    assertEquals(200, harness.admin("POST", "/admin/users/" + user + "/block", "").statusCode());
    bot.sendText(user, "/cv", "ru");
    assertEquals("❌ Аккаунт заблокирован", last(user, 2));
    assertEquals(200, harness.admin("POST", "/admin/users/" + user + "/unblock", "").statusCode());
    bot.sendText(user, "/cv", "ru");
    assertTrue(last(user, 3).startsWith("📄"));
  }

  @Test
  void adminApiNeedsTheBearerToken() {
    assertEquals(401, harness.call("GET", "/admin/users/1", null).statusCode());
    assertEquals(401,
        harness.call("GET", "/admin/users/1", null, "Authorization", "Bearer wrong").statusCode());
  }

  @Test
  void adminApiExplainsBadInput() {
    HttpResponse<String> negative = harness.admin("POST", "/admin/users/7/credit",
        "{\"amount\": -1, \"idempotency_key\": \"k\"}");
    assertEquals(400, negative.statusCode());
    assertTrue(negative.body().contains("amount must be a whole number"), negative.body());
    HttpResponse<String> noKey =
        harness.admin("POST", "/admin/users/7/credit", "{\"amount\": 1}");
    assertEquals(400, noKey.statusCode());
    assertTrue(noKey.body().contains("idempotency_key is required"), noKey.body());
    assertEquals(400, harness.admin("POST", "/admin/users/7/credit", "not json").statusCode());
    assertEquals(400, harness.admin("GET", "/admin/users/abc", null).statusCode());
    HttpResponse<String> date = harness.admin("POST", "/admin/users/7/subscription",
        "{\"until\": \"tomorrow\"}");
    assertEquals(400, date.statusCode());
    assertTrue(date.body().contains("ISO-8601"), date.body());
    assertEquals(404, harness.admin("GET", "/admin/users/99999", null).statusCode());
  }

  @Test
  void adminApiRefusesASubscriptionDateOutOfRangeAndTheUserStillAnswers() {
    long user = 1011;
    for (String until : List.of("+1000000000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z")) {
      HttpResponse<String> far = harness.admin("POST", "/admin/users/" + user + "/subscription",
          "{\"until\": \"" + until + "\"}");
      assertEquals(400, far.statusCode(), far.body());
      assertTrue(far.body().contains("until must be between 1970-01-01T00:00:00Z and"), far.body());
    }
    bot.sendText(user, "/balance", "en");
    assertEquals("💰 Balance: 1 token\n📅 Subscription: none", last(user, 1));
  }

  @Test
  void adminApiBoundsCreditReasonAndKey() {
    String path = "/admin/users/1012/credit";
    HttpResponse<String> longReason = harness.admin("POST", path,
        "{\"amount\": 1, \"idempotency_key\": \"k1\", \"reason\": \"" + "r".repeat(501) + "\"}");
    assertEquals(400, longReason.statusCode());
    assertTrue(longReason.body().contains("reason must be at most 500 characters"), longReason.body());
    HttpResponse<String> newline = harness.admin("POST", path,
        "{\"amount\": 1, \"idempotency_key\": \"k2\", \"reason\": \"a\\nINFO forged\"}");
    assertEquals(400, newline.statusCode());
    assertTrue(newline.body().contains("reason must not contain control characters"), newline.body());
    HttpResponse<String> key = harness.admin("POST", path,
        "{\"amount\": 1, \"idempotency_key\": \"k\\u0000\"}");
    assertEquals(400, key.statusCode());
    assertTrue(key.body().contains("idempotency_key must not contain control characters"), key.body());
    assertEquals(404, harness.admin("GET", "/admin/users/1012", null).statusCode(),
        "nothing was credited");
  }

  @Test
  void adminApiSaysWhyARefundOrCancelCannotBeDone() {
    String refund = "/admin/users/1014/refund";
    HttpResponse<String> missing = harness.admin("POST", refund, "{}");
    assertEquals(400, missing.statusCode());
    assertTrue(missing.body().contains("telegram_payment_charge_id is required"), missing.body());
    HttpResponse<String> unknown =
        harness.admin("POST", refund, "{\"telegram_payment_charge_id\": \"ch-1\"}");
    assertEquals(404, unknown.statusCode());
    assertTrue(unknown.body().contains("no payment with telegram_payment_charge_id ch-1"),
        unknown.body());
    HttpResponse<String> cancel =
        harness.admin("POST", "/admin/users/1014/subscription/cancel", null);
    assertEquals(404, cancel.statusCode());
    assertTrue(cancel.body().contains("the user has no Stars subscription"), cancel.body());
    HttpResponse<String> reserved = harness.admin("POST", "/admin/users/1014/credit",
        "{\"amount\": 1, \"idempotency_key\": \"stars:ch-1\"}");
    assertEquals(400, reserved.statusCode());
    assertTrue(reserved.body().contains("is reserved"), reserved.body());
  }

  @Test
  void dropsUpdatesFromUserIdsTheAdminApiRefuses() {
    long zero = bot.sendText(0, "/start", "en");
    long negative = bot.sendText(-7, "/start", "en");
    long user = 1013;
    bot.sendText(user, "/start", "en");
    harness.awaitMessages(user, 1);
    harness.awaitAssert(() -> assertTrue(bot.confirmedOffset() > negative, "acknowledged"));
    assertEquals(List.of(), bot.sentTo(0));
    assertEquals(List.of(), bot.sentTo(-7));
    assertEquals(400, harness.admin("GET", "/admin/users/0", null).statusCode());
    assertEquals(400, harness.admin("GET", "/admin/users/-7", null).statusCode());
    harness.awaitAssert(() -> {
      String log = io.botengine.testing.CapturingAppender.text();
      assertTrue(log.contains("update " + zero + " dropped: user id 0 is not positive"), log);
      assertTrue(log.contains("update " + negative + " dropped: user id -7 is not positive"), log);
    });
  }

  @Test
  void adminCreditCountsOncePerIdempotencyKey() {
    String body = "{\"amount\": 5, \"reason\": \"promo\", \"idempotency_key\": \"promo-77\"}";
    assertEquals(200, harness.admin("POST", "/admin/users/77/credit", body).statusCode());
    HttpResponse<String> again = harness.admin("POST", "/admin/users/77/credit", body);
    assertTrue(again.body().contains("\"balance\":5"), again.body());
    HttpResponse<String> sub = harness.admin("POST", "/admin/users/77/subscription",
        "{\"until\": \"2027-01-01T00:00:00Z\"}");
    assertTrue(sub.body().contains("\"subscription_until\":\"2027-01-01T00:00:00Z\""), sub.body());
  }

  @Test
  void reportsHealth() {
    assertEquals(200, harness.call("GET", "/health/alive", null).statusCode());
    harness.awaitAssert(
        () -> assertEquals(200, harness.call("GET", "/health/ready", null).statusCode()));
  }

  @Test
  void registersItsCommandsWithTelegram() {
    harness.awaitAssert(() -> assertEquals(
        List.of("cv", "balance", "buy", "paysupport", "cancel", "help"),
        bot.myCommands().stream().map(c -> c.get("command")).toList()));
    List<Object> descriptions = bot.myCommands().stream().map(c -> c.get("description")).toList();
    List<List<Object>> menus = List.of(
        List.of("Анализ резюме (PDF или TXT)", "Баланс и подписка",
            "Купить токены за Telegram Stars", "Поддержка по оплатам", "Отменить текущее действие",
            "Справка"),
        List.of("Analyse a CV (PDF or TXT)", "Balance and subscription",
            "Buy tokens with Telegram Stars", "Payment support", "Cancel what is in progress",
            "Help"));
    assertTrue(menus.contains(descriptions), "the last menu set, in either language: "
        + descriptions);
  }
}
