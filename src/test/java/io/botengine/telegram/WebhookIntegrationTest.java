package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The engine in webhook mode: Telegram (the emulator) POSTs updates to it. */
@ExtendWith(LogCapture.class)
class WebhookIntegrationTest {
  private static final String SECRET = "webhook-s3cret";
  private static EngineHarness harness;

  @BeforeAll
  static void start() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    harness = new EngineHarness();
    harness.start(Map.of(
        "bot.telegram.mode", "webhook",
        "bot.telegram.webhook.secret", SECRET,
        "bot.telegram.webhook.public-url", "http://127.0.0.1:" + port + "/telegram/webhook",
        "bot.http.port", port));
    harness.awaitAssert(() -> assertTrue(harness.bot.webhookUrl().isPresent()));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void handlesUpdatesPostedToTheWebhook() {
    long user = 4001;
    harness.bot.sendText(user, "/start", "ru");
    assertTrue(harness.bot.awaitSent(user, 1, EngineHarness.WAIT).get(0).text().startsWith("👋"));
    assertFalse(harness.bot.callLog().contains("getUpdates"), "no polling in webhook mode");
  }

  @Test
  void handlesARedeliveredUpdateOnce() {
    long user = 4002;
    long id = harness.bot.sendText(user, "/balance", "ru");
    harness.bot.awaitSent(user, 1, EngineHarness.WAIT);
    harness.bot.redeliver(id);
    harness.bot.sendText(user, "/help", "ru");
    List<Sent> sent = harness.bot.awaitSent(user, 2, EngineHarness.WAIT);
    assertTrue(sent.get(1).text().startsWith("👋"), sent.get(1).text());
    assertEquals(2, harness.bot.sentTo(user).size());
  }

  @Test
  void takesAStarsPaymentThroughTheWebhookAndCreditsItOnce() {
    long user = 4003;
    harness.bot.sendText(user, "/buy", "ru");
    harness.awaitAssert(() -> assertEquals(2, harness.bot.invoices(user).size()));
    BotApiEmulator.PaymentResult paid =
        harness.bot.pay(user, harness.bot.invoices(user).get(0));
    assertTrue(paid.ok(), paid.toString());
    harness.bot.redeliver(paid.updateId());
    harness.bot.redeliverPayment(user, paid.chargeId());
    harness.bot.sendText(user, "/balance", "ru");
    harness.awaitAssert(() -> assertTrue(harness.messages(user).stream().anyMatch(
        s -> s.text() != null && s.text().startsWith("💰 Баланс: 6 токенов"))));
    assertEquals(1, harness.messages(user).stream()
        .filter(s -> s.text() != null && s.text().startsWith("✅ Оплачено: +5 токенов")).count());
  }

  @Test
  void refusesAWrongOrMissingSecret() {
    String update = "{\"update_id\": 99, \"message\": {\"message_id\": 1, \"date\": 0,"
        + " \"chat\": {\"id\": 5, \"type\": \"private\"}, \"from\": {\"id\": 5, \"is_bot\": false,"
        + " \"first_name\": \"X\"}, \"text\": \"/start\"}}";
    assertEquals(401, harness.call("POST", "/telegram/webhook", update,
        "Content-Type", "application/json").statusCode());
    assertEquals(401, harness.call("POST", "/telegram/webhook", update,
        "Content-Type", "application/json",
        "X-Telegram-Bot-Api-Secret-Token", "wrong").statusCode());
    assertEquals(400, harness.call("POST", "/telegram/webhook", "not json",
        "Content-Type", "application/json",
        "X-Telegram-Bot-Api-Secret-Token", SECRET).statusCode());
  }
}
