package io.botengine.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.japi.function.Function;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.botengine.sandbox.BotApiEmulator.Invoice;
import io.botengine.sandbox.BotApiEmulator.Payment;
import io.botengine.sandbox.BotApiEmulator.PaymentResult;
import io.botengine.sandbox.BotApiEmulator.PreCheckoutAnswer;
import io.botengine.sandbox.BotApiEmulator.Refund;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.BotApiEmulator.SubscriptionEdit;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.AnswerPreCheckoutQuery;
import org.telegram.telegrambots.meta.api.methods.invoices.CreateInvoiceLink;
import org.telegram.telegrambots.meta.api.methods.invoices.SendInvoice;
import org.telegram.telegrambots.meta.api.methods.payments.RefundStarPayment;
import org.telegram.telegrambots.meta.api.methods.payments.star.EditUserStarSubscription;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.methods.updates.GetUpdates;
import org.telegram.telegrambots.meta.api.methods.updates.SetWebhook;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.api.objects.payments.LabeledPrice;
import org.telegram.telegrambots.meta.api.objects.payments.PreCheckoutQuery;
import org.telegram.telegrambots.meta.api.objects.payments.RefundedPayment;
import org.telegram.telegrambots.meta.api.objects.payments.SuccessfulPayment;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.InlineKeyboardMarkup;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.buttons.InlineKeyboardButton;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.buttons.InlineKeyboardRow;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;

/**
 * Payments in Telegram Stars through the Bot API emulator over real sockets, the bot played by
 * telegrambots' own client: invoices, pre-checkout, successful and refunded payments, renewals,
 * refunds and subscription edits, by long polling and by webhook.
 */
@ExtendWith(LogCapture.class)
class BotApiPaymentsTest {
  private static final String TOKEN = "123456:TEST-token_abc";
  private static final long USER = 42L;
  private static final long OTHER = 43L;
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final int THIRTY_DAYS = 2_592_000;

  private static ActorTestKit testKit;

  private BotApiEmulator emulator;
  private OkHttpTelegramClient client;
  private int offset;

  @BeforeAll
  static void startSystem() {
    testKit =
        ActorTestKit.create(
            "BotApiPaymentsTest",
            ConfigFactory.parseString("akka.actor.provider = local")
                .withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void start() {
    emulator = BotApiEmulator.start(testKit.system(), "127.0.0.1", 0, TOKEN);
    client =
        new OkHttpTelegramClient(
            TOKEN,
            TelegramUrl.builder()
                .schema("http")
                .host("127.0.0.1")
                .port(emulator.port())
                .testServer(false)
                .build());
    emulator.sendText(USER, "/buy");
    emulator.sendText(OTHER, "/buy");
    offset = 0;
    assertEquals(2, nextUpdates().size());
  }

  @AfterEach
  void stop() {
    emulator.close();
  }

  // ---------------------------------------------------------------- the bot's side

  private static TelegramApiRequestException apiError(Executable call) {
    return assertThrows(TelegramApiRequestException.class, call);
  }

  private static SendInvoice pack(long chatId, String payload, int stars) {
    return SendInvoice.builder()
        .chatId(chatId)
        .title(stars / 10 + " токенов")
        .description("Пакет токенов для анализа резюме")
        .payload(payload)
        .currency("XTR")
        .price(new LabeledPrice("Токены", stars))
        .build();
  }

  private static CreateInvoiceLink subscription(int stars, Integer period) {
    return CreateInvoiceLink.builder()
        .title("Подписка")
        .description("Месяц анализа резюме")
        .payload("sub:monthly")
        .currency("XTR")
        .price(new LabeledPrice("Месяц", stars))
        .subscriptionPeriod(period)
        .build();
  }

  private Message offerLink(long chatId, String link) throws Exception {
    return client.execute(
        SendMessage.builder()
            .chatId(chatId)
            .text("Подписка на месяц")
            .replyMarkup(
                InlineKeyboardMarkup.builder()
                    .keyboardRow(
                        new InlineKeyboardRow(
                            InlineKeyboardButton.builder().text("Оформить").url(link).build()))
                    .build())
            .build());
  }

  /** The updates not yet seen (queued already: no long poll), confirming the earlier ones. */
  private List<Update> nextUpdates() {
    try {
      List<Update> got = client.execute(GetUpdates.builder().offset(offset).timeout(0).build());
      if (!got.isEmpty()) {
        offset = got.get(got.size() - 1).getUpdateId() + 1;
      }
      return got;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private Update nextUpdate() {
    List<Update> got = nextUpdates();
    assertEquals(1, got.size(), got.toString());
    return got.get(0);
  }

  private void answer(String queryId, boolean ok, String error) throws Exception {
    assertTrue(
        client.execute(
            AnswerPreCheckoutQuery.builder()
                .preCheckoutQueryId(queryId)
                .ok(ok)
                .errorMessage(error)
                .build()));
  }

  /** Pays through the whole exchange: the bot approves the pre-checkout. */
  private PaymentResult payApproved(long user, Invoice invoice) throws Exception {
    CompletionStage<PaymentResult> paying = emulator.payAsync(user, invoice);
    answer(nextUpdate().getPreCheckoutQuery().getId(), true, null);
    return paying.toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------- tests

  @Test
  void sendInvoiceInStarsShowsTheInvoiceAndOffersIt() throws Exception {
    Message message = client.execute(pack(USER, "pack:5", 50));

    assertEquals("5 токенов", message.getInvoice().getTitle());
    assertEquals("Пакет токенов для анализа резюме", message.getInvoice().getDescription());
    assertEquals("XTR", message.getInvoice().getCurrency());
    assertEquals(50, message.getInvoice().getTotalAmount());
    assertEquals("", message.getInvoice().getStartParameter());
    List<Invoice> offered = emulator.invoices(USER);
    assertEquals(1, offered.size());
    Invoice invoice = offered.get(0);
    assertEquals("pack:5", invoice.payload());
    assertEquals(50, invoice.stars());
    assertEquals(message.getMessageId().longValue(), invoice.messageId());
    assertFalse(invoice.subscription());
    assertNull(invoice.link());
    assertEquals(invoice, emulator.invoice(USER, "pack:5"));
    Sent sent = emulator.sentTo(USER).get(0);
    assertEquals("sendInvoice", sent.method());
    assertEquals(invoice, sent.invoice());
    assertTrue(emulator.invoices(OTHER).isEmpty());
    assertThrows(IllegalArgumentException.class, () -> emulator.invoice(OTHER, "pack:5"));
  }

  @Test
  void invoicesTelegramWouldRefuseAreRefusedWithAReason() {
    SendInvoice twoPrices =
        SendInvoice.builder()
            .chatId(USER)
            .title("5 токенов")
            .description("Пакет")
            .payload("pack:5")
            .currency("XTR")
            .price(new LabeledPrice("Токены", 40))
            .price(new LabeledPrice("Налог", 10))
            .build();
    assertEquals(
        "Bad Request: STARS_INVOICE_INVALID: an invoice in Telegram Stars must have exactly one"
            + " price",
        apiError(() -> client.execute(twoPrices)).getApiResponse());
    assertEquals(
        "Bad Request: STARS_INVOICE_INVALID: the price must be a whole number of at least 1 Star",
        apiError(() -> client.execute(pack(USER, "pack:0", 0))).getApiResponse());
    SendInvoice dollars =
        SendInvoice.builder()
            .chatId(USER)
            .title("5 токенов")
            .description("Пакет")
            .payload("pack:5")
            .currency("USD")
            .price(new LabeledPrice("Токены", 500))
            .build();
    TelegramApiRequestException noProvider = apiError(() -> client.execute(dollars));
    assertEquals(400, noProvider.getErrorCode());
    assertTrue(
        noProvider.getApiResponse().startsWith("Bad Request: PAYMENT_PROVIDER_INVALID"),
        noProvider.getApiResponse());
    assertEquals(
        "Bad Request: STARS_INVOICE_INVALID: a subscription costs at most 10000 Stars per period",
        apiError(() -> client.execute(subscription(10_001, THIRTY_DAYS))).getApiResponse());
    assertEquals(
        "Bad Request: SUBSCRIPTION_PERIOD_INVALID: subscription_period must be 2592000 (30 days)",
        apiError(() -> client.execute(subscription(100, 86_400))).getApiResponse());
    assertEquals(
        "Bad Request: chat not found",
        apiError(() -> client.execute(pack(777L, "pack:5", 50))).getApiResponse());

    assertTrue(emulator.invoices(USER).isEmpty());
    assertTrue(emulator.sent().isEmpty());
  }

  @Test
  void aSubscriptionLinkBehindAnInlineButtonIsOfferedToThatUser() throws Exception {
    String link = client.execute(subscription(100, THIRTY_DAYS));
    assertTrue(link.matches("https://t\\.me/\\$[A-Za-z0-9]{22}"), link);
    String plainLink = client.execute(subscription(30, null));
    assertNotEquals(link, plainLink);

    Message offer = offerLink(USER, link);
    client.execute(
        SendMessage.builder()
            .chatId(USER)
            .text("Документация")
            .replyMarkup(
                InlineKeyboardMarkup.builder()
                    .keyboardRow(
                        new InlineKeyboardRow(
                            InlineKeyboardButton.builder()
                                .text("Читать")
                                .url("https://example.com/docs")
                                .build()))
                    .build())
            .build());
    offerLink(USER, plainLink);

    assertEquals("Оформить", offer.getReplyMarkup().getKeyboard().get(0).get(0).getText());
    List<Invoice> offered = emulator.invoices(USER);
    assertEquals(2, offered.size(), "a link to elsewhere offers nothing: " + offered);
    Invoice monthly = offered.get(0);
    assertTrue(monthly.subscription());
    assertEquals(link, monthly.link());
    assertEquals(100, monthly.stars());
    assertEquals("sub:monthly", monthly.payload());
    assertEquals(offer.getMessageId().longValue(), monthly.messageId());
    assertFalse(offered.get(1).subscription(), "a link without subscription_period");
    Sent sent = emulator.sentTo(USER).get(0);
    assertTrue(sent.replyMarkup().contains(link), sent.replyMarkup());
    assertTrue(emulator.invoices(OTHER).isEmpty());
  }

  @Test
  void anApprovedPreCheckoutIsFollowedByTheSuccessfulPayment() throws Exception {
    client.execute(pack(USER, "pack:5", 50));
    Invoice invoice = emulator.invoices(USER).get(0);

    CompletionStage<PaymentResult> paying = emulator.payAsync(USER, invoice);
    PreCheckoutQuery query = nextUpdate().getPreCheckoutQuery();
    assertEquals(USER, query.getFrom().getId());
    assertEquals("XTR", query.getCurrency());
    assertEquals(50, query.getTotalAmount());
    assertEquals("pack:5", query.getInvoicePayload());
    assertFalse(paying.toCompletableFuture().isDone(), "waits for the bot's answer");
    assertTrue(emulator.payments(USER).isEmpty());

    answer(query.getId(), true, null);
    PaymentResult result = paying.toCompletableFuture().get(5, TimeUnit.SECONDS);

    assertTrue(result.ok());
    assertTrue(result.answered());
    assertTrue(result.chargeId().startsWith("stx"), result.chargeId());
    Update update = nextUpdate();
    assertEquals(result.updateId(), update.getUpdateId().longValue());
    assertEquals(USER, update.getMessage().getChatId());
    SuccessfulPayment paid = update.getMessage().getSuccessfulPayment();
    assertEquals("XTR", paid.getCurrency());
    assertEquals(50, paid.getTotalAmount());
    assertEquals("pack:5", paid.getInvoicePayload());
    assertEquals(result.chargeId(), paid.getTelegramPaymentChargeId());
    assertEquals("", paid.getProviderPaymentChargeId());
    assertNull(paid.getSubscriptionExpirationDate());
    assertNull(paid.getIsRecurring());
    List<PreCheckoutAnswer> answers = emulator.preCheckoutAnswers();
    assertEquals(1, answers.size());
    assertEquals(query.getId(), answers.get(0).queryId());
    assertTrue(answers.get(0).ok());
    assertEquals(List.of(result.chargeId()), emulator.payments(USER).stream()
        .map(Payment::chargeId).toList());

    TelegramApiRequestException twice = apiError(() -> answer(query.getId(), true, null));
    assertEquals(
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
        twice.getApiResponse());
    PaymentResult again = payApproved(USER, invoice);
    assertNotEquals(result.chargeId(), again.chargeId(), "each payment has a charge of its own");
  }

  @Test
  void aRefusedPreCheckoutPaysNothing() throws Exception {
    client.execute(pack(USER, "pack:5", 50));

    CompletionStage<PaymentResult> paying = emulator.payAsync(USER, "pack:5");
    answer(nextUpdate().getPreCheckoutQuery().getId(), false, "Предложение устарело");
    PaymentResult result = paying.toCompletableFuture().get(5, TimeUnit.SECONDS);

    assertFalse(result.ok());
    assertTrue(result.answered());
    assertEquals("Предложение устарело", result.errorMessage());
    assertNull(result.chargeId());
    assertTrue(nextUpdates().isEmpty(), "no successful_payment");
    assertTrue(emulator.payments(USER).isEmpty());
    assertEquals("Предложение устарело", emulator.preCheckoutAnswers().get(0).errorMessage());
  }

  @Test
  void anUnansweredPreCheckoutPaysNothingAndALateAnswerIsTooOld() throws Exception {
    client.execute(pack(USER, "pack:5", 50));
    emulator.preCheckoutTimeout(Duration.ofMillis(300));

    PaymentResult result = emulator.pay(USER, "pack:5");

    assertFalse(result.ok());
    assertFalse(result.answered());
    String queryId = nextUpdate().getPreCheckoutQuery().getId();
    TelegramApiRequestException late = apiError(() -> answer(queryId, true, null));
    assertEquals(400, late.getErrorCode());
    assertTrue(late.getApiResponse().startsWith("Bad Request: query is too old"));
    assertTrue(nextUpdates().isEmpty(), "no successful_payment");
    assertTrue(emulator.payments(USER).isEmpty());
    assertTrue(emulator.preCheckoutAnswers().isEmpty());
  }

  @Test
  void subscriptionPaymentsCarryTheirExpirationAndRenewalsExtendIt() throws Exception {
    offerLink(USER, client.execute(subscription(100, THIRTY_DAYS)));
    Invoice monthly = emulator.invoices(USER).get(0);
    long before = Instant.now().getEpochSecond();

    PaymentResult first = payApproved(USER, monthly);
    SuccessfulPayment paid = nextUpdate().getMessage().getSuccessfulPayment();

    assertEquals(100, paid.getTotalAmount());
    assertTrue(paid.getIsRecurring());
    assertTrue(paid.getIsFirstRecurring());
    long expiration = paid.getSubscriptionExpirationDate();
    assertTrue(
        expiration >= before + THIRTY_DAYS && expiration <= Instant.now().getEpochSecond()
            + THIRTY_DAYS,
        "expires 30 days after the payment: " + expiration);

    PaymentResult renewal = emulator.renewSubscription(USER, first.chargeId());
    Update renewed = nextUpdate();
    SuccessfulPayment next = renewed.getMessage().getSuccessfulPayment();
    assertEquals(renewal.updateId(), renewed.getUpdateId().longValue());
    assertNotEquals(first.chargeId(), next.getTelegramPaymentChargeId());
    assertEquals(renewal.chargeId(), next.getTelegramPaymentChargeId());
    assertTrue(next.getIsRecurring());
    assertFalse(next.getIsFirstRecurring());
    assertEquals(expiration + THIRTY_DAYS, next.getSubscriptionExpirationDate().longValue());
    assertEquals(1, emulator.preCheckoutAnswers().size(), "renewals have no pre-checkout");

    assertTrue(
        client.execute(
            EditUserStarSubscription.builder()
                .userId(USER)
                .telegramPaymentChargeId(first.chargeId())
                .isCanceled(true)
                .build()));
    assertEquals(
        List.of(USER + " " + first.chargeId() + " true"),
        emulator.subscriptionEdits().stream()
            .map(e -> e.userId() + " " + e.chargeId() + " " + e.canceled())
            .toList());
    assertThrows(
        IllegalStateException.class, () -> emulator.renewSubscription(USER, renewal.chargeId()));
    TelegramApiRequestException unknown =
        apiError(
            () ->
                client.execute(
                    EditUserStarSubscription.builder()
                        .userId(USER)
                        .telegramPaymentChargeId("stxUnknown")
                        .isCanceled(true)
                        .build()));
    assertEquals("Bad Request: CHARGE_NOT_FOUND", unknown.getApiResponse());
    SubscriptionEdit only = emulator.subscriptionEdits().get(0);
    assertTrue(only.canceled());
  }

  @Test
  void aChargeIsRefundedOnceAndOnlyForItsUser() throws Exception {
    client.execute(pack(USER, "pack:5", 50));
    PaymentResult paid = payApproved(USER, emulator.invoice(USER, "pack:5"));
    RefundStarPayment refund =
        RefundStarPayment.builder().userId(USER).telegramPaymentChargeId(paid.chargeId()).build();

    TelegramApiRequestException notHis =
        apiError(
            () ->
                client.execute(
                    RefundStarPayment.builder()
                        .userId(OTHER)
                        .telegramPaymentChargeId(paid.chargeId())
                        .build()));
    assertTrue(client.execute(refund));
    TelegramApiRequestException twice = apiError(() -> client.execute(refund));
    TelegramApiRequestException unknown =
        apiError(
            () ->
                client.execute(
                    RefundStarPayment.builder()
                        .userId(USER)
                        .telegramPaymentChargeId("stxNoSuchCharge")
                        .build()));

    assertEquals("Bad Request: CHARGE_NOT_FOUND", notHis.getApiResponse());
    assertEquals(400, twice.getErrorCode());
    assertEquals("Bad Request: CHARGE_ALREADY_REFUNDED", twice.getApiResponse());
    assertEquals("Bad Request: CHARGE_NOT_FOUND", unknown.getApiResponse());
    List<Refund> refunds = emulator.refunds();
    assertEquals(1, refunds.size());
    assertEquals(paid.chargeId(), refunds.get(0).chargeId());
    assertEquals(50, refunds.get(0).stars());
    assertEquals("pack:5", refunds.get(0).payload());
  }

  @Test
  void aPaymentDeliveredAgainAndARefundByTelegramArriveAsNewUpdates() throws Exception {
    client.execute(pack(USER, "pack:5", 50));
    PaymentResult paid = payApproved(USER, emulator.invoice(USER, "pack:5"));
    SuccessfulPayment original = nextUpdate().getMessage().getSuccessfulPayment();

    long again = emulator.redeliverPayment(USER, paid.chargeId());
    Update redelivered = nextUpdate();
    assertEquals(again, redelivered.getUpdateId().longValue());
    assertNotEquals(paid.updateId(), again, "a new update");
    assertEquals(original, redelivered.getMessage().getSuccessfulPayment(), "the same payment");
    assertTrue(emulator.payments(USER).get(1).redelivered());

    long refundUpdate = emulator.refundByTelegram(USER, paid.chargeId());
    Update refunded = nextUpdate();
    assertEquals(refundUpdate, refunded.getUpdateId().longValue());
    RefundedPayment refund = refunded.getMessage().getRefundedPayment();
    assertEquals("XTR", refund.getCurrency());
    assertEquals(50, refund.getTotalAmount());
    assertEquals("pack:5", refund.getInvoicePayload());
    assertEquals(paid.chargeId(), refund.getTelegramPaymentChargeId());
    assertEquals(
        "Bad Request: CHARGE_ALREADY_REFUNDED",
        apiError(
                () ->
                    client.execute(
                        RefundStarPayment.builder()
                            .userId(USER)
                            .telegramPaymentChargeId(paid.chargeId())
                            .build()))
            .getApiResponse());
    assertTrue(emulator.refunds().isEmpty(), "the bot refunded nothing itself");
    assertThrows(
        IllegalArgumentException.class, () -> emulator.redeliverPayment(OTHER, paid.chargeId()));
  }

  @Test
  void paymentsReachAWebhookToo() throws Exception {
    ObjectMapper json = new ObjectMapper();
    BlockingQueue<Update> received = new LinkedBlockingQueue<>();
    Function<HttpRequest, CompletionStage<HttpResponse>> webhook =
        request ->
            request
                .entity()
                .toStrict(5_000, testKit.system())
                .thenCompose(
                    entity -> {
                      Update update;
                      try {
                        update = json.readValue(entity.getData().utf8String(), Update.class);
                      } catch (Exception e) {
                        return CompletableFuture.failedFuture(e);
                      }
                      received.add(update);
                      if (!update.hasPreCheckoutQuery()) {
                        return CompletableFuture.completedFuture(HttpResponse.create());
                      }
                      try {
                        return client
                            .executeAsync(
                                AnswerPreCheckoutQuery.builder()
                                    .preCheckoutQueryId(update.getPreCheckoutQuery().getId())
                                    .ok(true)
                                    .build())
                            .thenApply(answered -> HttpResponse.create());
                      } catch (Exception e) {
                        return CompletableFuture.failedFuture(e);
                      }
                    });
    ServerBinding hook =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .bind(webhook)
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    try {
      client.execute(pack(USER, "pack:5", 50));
      client.execute(
          SetWebhook.builder()
              .url("http://127.0.0.1:" + hook.localAddress().getPort() + "/telegram")
              .dropPendingUpdates(true)
              .build());

      PaymentResult result = emulator.pay(USER, "pack:5");

      assertTrue(result.ok());
      Update query = received.poll(5, TimeUnit.SECONDS);
      Update payment = received.poll(5, TimeUnit.SECONDS);
      assertEquals("pack:5", query.getPreCheckoutQuery().getInvoicePayload());
      assertEquals(result.updateId(), payment.getUpdateId().longValue());
      assertEquals(
          result.chargeId(),
          payment.getMessage().getSuccessfulPayment().getTelegramPaymentChargeId());
    } finally {
      hook.terminate(Duration.ofSeconds(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }
}
