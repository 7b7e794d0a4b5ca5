package io.botengine.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.Json;
import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Invoice;
import io.botengine.sandbox.BotApiEmulator.PaymentResult;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Telegram Stars end to end, in polling mode, through the Bot API and Runner emulators over
 * sockets: what the user sees, what is credited, what is refunded; every payment credited once.
 */
@ExtendWith(LogCapture.class)
class PaymentsFlowTest {
  private static final Map<String, Object> SETTINGS = Map.of(
      "bot.payments.subscription.stars", 300,
      "bot.payments.subscription.tokens", 10);
  private static EngineHarness harness;
  private static BotApiEmulator bot;

  @BeforeAll
  static void start() {
    harness = new EngineHarness();
    bot = harness.bot;
    harness.start(SETTINGS);
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  private static List<String> texts(long user) {
    return harness.messages(user).stream().map(BotApiEmulator.Sent::text).toList();
  }

  private static void awaitText(long user, String text) {
    harness.awaitAssert(() -> assertTrue(texts(user).contains(text), texts(user).toString()));
  }

  private static JsonNode account(long user) throws Exception {
    return Json.MAPPER.readTree(harness.admin("GET", "/admin/users/" + user, null).body());
  }

  /** /buy; returns the invoices it offered: the packs, then the subscription. */
  private static List<Invoice> buy(long user) {
    int before = bot.invoices(user).size();
    bot.sendText(user, "/buy", "ru");
    harness.awaitAssert(() -> assertEquals(before + 3, bot.invoices(user).size()));
    return bot.invoices(user).subList(before, before + 3);
  }

  @Test
  void aUserOutOfTokensBuysAPackAndRunsTheNextAnalysis() throws Exception {
    long user = 7001;
    harness.runner.scenarioFor(user, RunnerScenario.SEED_001);
    bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    bot.sendDocument(user, "cv.txt", "text/plain",
        "Иван Иванов, Java developer".getBytes(StandardCharsets.UTF_8));
    awaitText(user, "✅ Анализ завершён! Списано: 1 токен");
    bot.sendText(user, "/cv", "ru");
    awaitText(user, "❌ Недостаточно токенов. Используйте /buy");

    Invoice five = buy(user).get(0);
    assertEquals("Пакет: 5 токенов", five.title());
    assertEquals(50, five.stars());
    PaymentResult paid = bot.pay(user, five);
    assertTrue(paid.ok(), paid.toString());
    awaitText(user, "✅ Оплачено: +5 токенов. Баланс: 5 токенов");

    int before = harness.messages(user).size();
    bot.sendText(user, "/cv", "ru");
    harness.awaitAssert(() -> assertTrue(harness.messages(user).size() > before));
    assertTrue(harness.messages(user).get(before).text().startsWith("📄"),
        harness.messages(user).get(before).text());
    JsonNode payment = account(user).get("payments").get(0);
    assertEquals(paid.chargeId(), payment.get("charge_id").asText());
    assertEquals(50, payment.get("stars").asLong());
  }

  @Test
  void aPaymentDeliveredTwiceIsCreditedOnce() throws Exception {
    long user = 7002;
    PaymentResult paid = bot.pay(user, buy(user).get(1));
    assertTrue(paid.ok(), paid.toString());
    long again = bot.redeliverPayment(user, paid.chargeId());
    bot.redeliver(paid.updateId());
    harness.awaitAssert(() -> assertTrue(bot.confirmedOffset() > again));
    awaitText(user, "✅ Оплачено: +20 токенов. Баланс: 21 токен");
    assertEquals(1, texts(user).stream().filter(t -> t.startsWith("✅ Оплачено")).count());
    assertEquals(21, account(user).get("balance").asLong());
    assertEquals(1, account(user).get("payments").size());
  }

  @Test
  void refusesAnOfferMadeToSomeoneElseOrOutOfDate() {
    long owner = 7003;
    long other = 7004;
    Invoice five = buy(owner).get(0);
    bot.sendText(other, "/start", "ru");
    harness.awaitMessages(other, 1);
    PaymentResult forwarded = bot.pay(other, five);
    assertFalse(forwarded.ok());
    assertEquals("Это предложение устарело. Отправьте /buy ещё раз.", forwarded.errorMessage());
    assertTrue(bot.payments(other).isEmpty());
  }

  @Test
  void aRestartBetweenPreCheckoutAndPaymentLosesNothing() throws Exception {
    long user = 7005;
    Invoice five = buy(user).get(0);
    AtomicBoolean stopped = new AtomicBoolean();
    bot.onPayment(p -> {
      if (p.userId() == user && stopped.compareAndSet(false, true)) {
        harness.stopEngine();
      }
    });
    PaymentResult paid = bot.pay(user, five);
    assertTrue(paid.ok(), paid.toString());
    assertTrue(stopped.get());
    harness.start(SETTINGS);
    awaitText(user, "✅ Оплачено: +5 токенов. Баланс: 6 токенов");
    assertEquals(6, account(user).get("balance").asLong());
  }

  @Test
  void refundsThroughTheAdminApiOnceAndRecordsARefundTelegramReports() throws Exception {
    long user = 7006;
    PaymentResult pack = bot.pay(user, buy(user).get(1));
    awaitText(user, "✅ Оплачено: +20 токенов. Баланс: 21 токен");
    String body = "{\"telegram_payment_charge_id\": \"" + pack.chargeId() + "\"}";
    HttpResponse<String> refund = harness.admin("POST", "/admin/users/" + user + "/refund", body);
    assertEquals(200, refund.statusCode(), refund.body());
    assertEquals(1, bot.refunds().stream().filter(r -> r.chargeId().equals(pack.chargeId())).count());
    awaitText(user, "↩️ Платёж на 180 ⭐ возвращён. Списано: 20 токенов. Баланс: 1 токен");
    HttpResponse<String> twice = harness.admin("POST", "/admin/users/" + user + "/refund", body);
    assertEquals(409, twice.statusCode(), twice.body());
    assertEquals(1, account(user).get("balance").asLong());

    PaymentResult monthly = bot.pay(user, buy(user).get(2));
    assertTrue(monthly.ok(), monthly.toString());
    harness.awaitAssert(() -> assertTrue(texts(user).stream()
        .anyMatch(t -> t.startsWith("✅ Подписка оплачена до "))));
    bot.refundByTelegram(user, monthly.chargeId());
    harness.awaitAssert(() -> assertTrue(texts(user).stream()
        .anyMatch(t -> t.startsWith("↩️ Платёж на 300 ⭐ возвращён. Списано: 10 токенов"))));
    HttpResponse<String> cancel =
        harness.admin("POST", "/admin/users/" + user + "/subscription/cancel", null);
    assertEquals(404, cancel.statusCode(), cancel.body());
  }

  @Test
  void aSubscriptionRenewsAndItsRenewalCanBeCancelled() throws Exception {
    long user = 7007;
    PaymentResult first = bot.pay(user, buy(user).get(2));
    assertTrue(first.ok(), first.toString());
    harness.awaitAssert(() -> assertTrue(texts(user).stream()
        .anyMatch(t -> t.startsWith("✅ Подписка оплачена до ") && t.endsWith("Баланс: 11 токенов"))));
    bot.renewSubscription(user, first.chargeId());
    harness.awaitAssert(() -> assertTrue(texts(user).stream()
        .anyMatch(t -> t.endsWith("Баланс: 21 токен"))));
    HttpResponse<String> cancel =
        harness.admin("POST", "/admin/users/" + user + "/subscription/cancel", null);
    assertEquals(200, cancel.statusCode(), cancel.body());
    assertEquals(1, bot.subscriptionEdits().stream().filter(e -> e.userId() == user).count());
    assertTrue(account(user).get("subscription_until").asText().startsWith("20"));
  }
}
