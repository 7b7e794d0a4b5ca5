package io.botengine.sandbox;

import static io.botengine.sandbox.BotApiReplies.ok;

import akka.actor.Cancellable;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.HttpResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.botengine.Json;
import io.botengine.sandbox.BotApiEmulator.Invoice;
import io.botengine.sandbox.BotApiEmulator.Payment;
import io.botengine.sandbox.BotApiEmulator.PaymentResult;
import io.botengine.sandbox.BotApiEmulator.PreCheckoutAnswer;
import io.botengine.sandbox.BotApiEmulator.Refund;
import io.botengine.sandbox.BotApiEmulator.SubscriptionEdit;
import io.botengine.sandbox.BotApiParams.Failure;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Bot API emulator's payments in Telegram Stars (currency XTR): the bot's invoices
 * (sendInvoice, createInvoiceLink, with a subscription_period for subscriptions), its answers to
 * pre-checkout queries, refunds and subscription edits; and the users' side, as Telegram plays it:
 * paying sends a pre_checkout_query, waits for the bot's answer (at most {@link
 * #DEFAULT_PRE_CHECKOUT_TIMEOUT}), then delivers a successful_payment message with a fresh charge
 * id; subscriptions renew with a new charge each period; a refund made outside the bot arrives as a
 * refunded_payment message. Guarded by the emulator's lock; a payment waiting for its answer is a
 * future completed by the answering call or by the actor system's scheduler.
 */
final class BotApiPayments {
  private static final Logger log = LoggerFactory.getLogger(BotApiEmulator.class);
  static final String STARS = "XTR";
  static final Duration DEFAULT_PRE_CHECKOUT_TIMEOUT = Duration.ofSeconds(10);

  /** Telegram's one subscription period: 30 days, in seconds. */
  static final int SUBSCRIPTION_PERIOD = 2_592_000;

  /** The most a Stars subscription may cost per period. */
  static final int MAX_SUBSCRIPTION_STARS = 10_000;

  private static final String LINK_PREFIX = "https://t.me/$";
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final String TOO_LATE =
      "Bad Request: query is too old and response timeout expired or query ID is invalid";

  /** A pre_checkout_query waiting for the bot's answer. */
  private static final class Checkout {
    final String id;
    final long userId;
    final Invoice invoice;
    final CompletableFuture<PaymentResult> result = new CompletableFuture<>();
    Cancellable timer;

    Checkout(String id, long userId, Invoice invoice) {
      this.id = id;
      this.userId = userId;
      this.invoice = invoice;
    }
  }

  /** A payment that was made: the successful_payment delivered for it, to deliver it again. */
  private static final class Charge {
    final Payment payment;
    final ObjectNode successfulPayment;
    final Subscription subscription;
    boolean refunded;

    Charge(Payment payment, ObjectNode successfulPayment, Subscription subscription) {
      this.payment = payment;
      this.successfulPayment = successfulPayment;
      this.subscription = subscription;
    }
  }

  /** A user's Stars subscription: paid until {@code expiration}, renewed unless canceled. */
  private static final class Subscription {
    final Invoice invoice;
    Instant expiration;
    boolean canceled;

    Subscription(Invoice invoice) {
      this.invoice = invoice;
    }
  }

  private final Object lock;
  private final ActorSystem<?> system;
  private final BotApiChats chats;
  private final BotApiUpdates updates;
  private final SecureRandom random = new SecureRandom();
  private final List<Consumer<Payment>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Invoice> links = new HashMap<>();
  private final Map<String, Checkout> checkouts = new HashMap<>();
  private final Map<String, Charge> charges = new HashMap<>();
  private final List<Payment> payments = new ArrayList<>();
  private final List<PreCheckoutAnswer> answers = new ArrayList<>();
  private final List<Refund> refunds = new ArrayList<>();
  private final List<SubscriptionEdit> edits = new ArrayList<>();
  private Duration preCheckoutTimeout = DEFAULT_PRE_CHECKOUT_TIMEOUT;
  private boolean closed;

  BotApiPayments(Object lock, ActorSystem<?> system, BotApiChats chats, BotApiUpdates updates) {
    this.lock = lock;
    this.system = system;
    this.chats = chats;
    this.updates = updates;
  }

  // ---------------------------------------------------------------- the bot's calls

  HttpResponse sendInvoice(BotApiParams p) {
    Invoice offer = offer(p, null, false);
    ObjectNode invoice = Json.MAPPER.createObjectNode();
    invoice.put("title", offer.title());
    invoice.put("description", offer.description());
    invoice.put("start_parameter", Objects.requireNonNullElse(p.text("start_parameter"), ""));
    invoice.put("currency", STARS);
    invoice.put("total_amount", offer.stars());
    return chats.sendInvoice(p, offer, invoice);
  }

  HttpResponse createInvoiceLink(BotApiParams p) {
    String period = p.text("subscription_period");
    boolean subscription = period != null && !period.isBlank();
    if (subscription && p.longValue("subscription_period", 0) != SUBSCRIPTION_PERIOD) {
      throw Failure.badRequest(
          "SUBSCRIPTION_PERIOD_INVALID: subscription_period must be "
              + SUBSCRIPTION_PERIOD
              + " (30 days)");
    }
    String link = LINK_PREFIX + randomText(22);
    Invoice offer = offer(p, link, subscription);
    synchronized (lock) {
      links.put(link, offer);
    }
    return ok(TextNode.valueOf(link));
  }

  HttpResponse answerPreCheckoutQuery(BotApiParams p) {
    String id = p.text("pre_checkout_query_id");
    if (id == null || id.isBlank()) {
      throw Failure.badRequest("pre_checkout_query_id is empty");
    }
    String okParam = p.text("ok");
    if (okParam == null) {
      throw Failure.badRequest("parameter \"ok\" is required");
    }
    boolean ok = p.bool("ok");
    String errorMessage = p.text("error_message");
    if (!ok && (errorMessage == null || errorMessage.isBlank())) {
      throw Failure.badRequest("error_message must be non-empty when ok is false");
    }
    Checkout checkout;
    synchronized (lock) {
      checkout = checkouts.remove(id);
      if (checkout == null) {
        throw new Failure(400, TOO_LATE, null);
      }
      answers.add(
          new PreCheckoutAnswer(
              id,
              checkout.userId,
              checkout.invoice.payload(),
              ok,
              ok ? null : errorMessage,
              Instant.now()));
    }
    checkout.timer.cancel();
    if (ok) {
      checkout.result.complete(charge(checkout.userId, checkout.invoice));
    } else {
      checkout.result.complete(new PaymentResult(false, errorMessage, null, 0, true));
    }
    return ok(BooleanNode.TRUE);
  }

  HttpResponse refundStarPayment(BotApiParams p) {
    long userId = p.longValue("user_id", 0);
    String chargeId = p.text("telegram_payment_charge_id");
    synchronized (lock) {
      Charge charge = chargeOf(userId, chargeId);
      if (charge.refunded) {
        throw Failure.badRequest("CHARGE_ALREADY_REFUNDED");
      }
      charge.refunded = true;
      Payment paid = charge.payment;
      refunds.add(new Refund(userId, chargeId, paid.payload(), paid.stars(), Instant.now()));
    }
    return ok(BooleanNode.TRUE);
  }

  HttpResponse editUserStarSubscription(BotApiParams p) {
    long userId = p.longValue("user_id", 0);
    String chargeId = p.text("telegram_payment_charge_id");
    if (p.text("is_canceled") == null) {
      throw Failure.badRequest("parameter \"is_canceled\" is required");
    }
    boolean canceled = p.bool("is_canceled");
    synchronized (lock) {
      Charge charge = chargeOf(userId, chargeId);
      if (charge.subscription == null) {
        throw Failure.badRequest(
            "SUBSCRIPTION_NOT_FOUND: the charge is not a subscription payment");
      }
      charge.subscription.canceled = canceled;
      edits.add(new SubscriptionEdit(userId, chargeId, canceled, Instant.now()));
    }
    return ok(BooleanNode.TRUE);
  }

  /** Holds lock. The charge of this user; 400 CHARGE_NOT_FOUND when unknown or another's. */
  private Charge chargeOf(long userId, String chargeId) {
    Charge charge = chargeId == null ? null : charges.get(chargeId);
    if (charge == null || charge.payment.userId() != userId) {
      throw Failure.badRequest("CHARGE_NOT_FOUND");
    }
    return charge;
  }

  /** The invoice a sendInvoice or createInvoiceLink describes, checked as Telegram checks it. */
  private static Invoice offer(BotApiParams p, String link, boolean subscription) {
    String title = p.text("title");
    String description = p.text("description");
    String payload = p.text("payload");
    if (title == null || title.isEmpty() || title.codePointCount(0, title.length()) > 32) {
      throw Failure.badRequest("INVOICE_TITLE_INVALID: title must have 1-32 characters");
    }
    if (description == null
        || description.isEmpty()
        || description.codePointCount(0, description.length()) > 255) {
      throw Failure.badRequest(
          "INVOICE_DESCRIPTION_INVALID: description must have 1-255 characters");
    }
    if (payload == null
        || payload.isEmpty()
        || payload.getBytes(StandardCharsets.UTF_8).length > 128) {
      throw Failure.badRequest("INVOICE_PAYLOAD_INVALID: payload must have 1-128 bytes");
    }
    String currency = p.text("currency");
    String providerToken = p.text("provider_token");
    boolean provider = providerToken != null && !providerToken.isEmpty();
    if (!STARS.equals(currency)) {
      throw Failure.badRequest(
          provider
              ? "CURRENCY_INVALID: the emulator sells in Telegram Stars only (currency XTR)"
              : "PAYMENT_PROVIDER_INVALID: without a provider_token the currency must be XTR");
    }
    if (provider) {
      throw Failure.badRequest(
          "PAYMENT_PROVIDER_INVALID: an invoice in Telegram Stars takes no provider_token");
    }
    JsonNode prices = p.json("prices");
    if (prices == null || !prices.isArray() || prices.size() != 1) {
      throw Failure.badRequest(
          "STARS_INVOICE_INVALID: an invoice in Telegram Stars must have exactly one price");
    }
    JsonNode price = prices.get(0);
    if (price.path("label").asText("").isEmpty()) {
      throw Failure.badRequest("can't parse prices JSON object: the price needs a label");
    }
    JsonNode amount = price.get("amount");
    if (amount == null || !amount.canConvertToInt() || amount.asInt() < 1) {
      throw Failure.badRequest(
          "STARS_INVOICE_INVALID: the price must be a whole number of at least 1 Star");
    }
    if (subscription && amount.asInt() > MAX_SUBSCRIPTION_STARS) {
      throw Failure.badRequest(
          "STARS_INVOICE_INVALID: a subscription costs at most "
              + MAX_SUBSCRIPTION_STARS
              + " Stars per period");
    }
    return new Invoice(
        0, 0, title, description, payload, amount.asInt(), subscription, link, Instant.now());
  }

  // ---------------------------------------------------------------- the users' side

  /** The invoice a link made by createInvoiceLink stands for, or null. */
  Invoice linked(String url) {
    synchronized (lock) {
      return links.get(url);
    }
  }

  /** What the bot offered the user, in order. */
  List<Invoice> invoices(long userId) {
    synchronized (lock) {
      return chats.sentToLocked(userId).stream()
          .map(BotApiEmulator.Sent::invoice)
          .filter(Objects::nonNull)
          .toList();
    }
  }

  /** The last invoice with this payload offered to the user; IllegalArgumentException if none. */
  Invoice invoice(long userId, String payload) {
    List<Invoice> offered = invoices(userId);
    for (int i = offered.size() - 1; i >= 0; i--) {
      if (offered.get(i).payload().equals(payload)) {
        return offered.get(i);
      }
    }
    throw new IllegalArgumentException(
        "The bot offered user " + userId + " no invoice with payload " + payload);
  }

  void preCheckoutTimeout(Duration timeout) {
    synchronized (lock) {
      preCheckoutTimeout = Objects.requireNonNull(timeout, "timeout");
    }
  }

  Duration preCheckoutTimeout() {
    synchronized (lock) {
      return preCheckoutTimeout;
    }
  }

  /** Sends the pre_checkout_query; completes when the bot answered, or unanswered on timeout. */
  CompletionStage<PaymentResult> pay(long userId, Invoice invoice) {
    Objects.requireNonNull(invoice, "invoice");
    Checkout checkout = new Checkout(Long.toString(randomId()), userId, invoice);
    Duration timeout;
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("The Bot API emulator is closed");
      }
      checkouts.put(checkout.id, checkout);
      timeout = preCheckoutTimeout;
      checkout.timer =
          system
              .scheduler()
              .scheduleOnce(timeout, () -> expire(checkout), system.executionContext());
    }
    ObjectNode query = Json.MAPPER.createObjectNode();
    query.put("id", checkout.id);
    query.set("from", updates.user(userId, updates.languageOf(userId)));
    query.put("currency", STARS);
    query.put("total_amount", invoice.stars());
    query.put("invoice_payload", invoice.payload());
    updates.inject("pre_checkout_query", query);
    return checkout.result;
  }

  private void expire(Checkout checkout) {
    boolean waiting;
    synchronized (lock) {
      waiting = checkouts.remove(checkout.id, checkout);
    }
    if (waiting) {
      checkout.result.complete(new PaymentResult(false, null, null, 0, false));
    }
  }

  /** The next payment of the subscription that {@code chargeId} paid, as Telegram renews it. */
  PaymentResult renew(long userId, String chargeId) {
    Subscription subscription;
    synchronized (lock) {
      Charge charge = testCharge(userId, chargeId);
      subscription = charge.subscription;
      if (subscription == null) {
        throw new IllegalArgumentException(chargeId + " did not pay a subscription");
      }
      if (subscription.canceled) {
        throw new IllegalStateException(
            "The bot canceled the subscription paid by "
                + chargeId
                + ": Telegram renews it no more");
      }
    }
    return charge(userId, subscription.invoice, subscription);
  }

  /** The successful_payment of {@code chargeId} once more, as a new update; returns its id. */
  long redeliver(long userId, String chargeId) {
    Charge charge;
    synchronized (lock) {
      charge = testCharge(userId, chargeId);
    }
    Payment again = withRedelivered(charge.payment);
    announce(again);
    long updateId =
        updates.inject(
            userId,
            updates.languageOf(userId),
            m -> m.set("successful_payment", charge.successfulPayment.deepCopy()));
    synchronized (lock) {
      payments.add(again);
    }
    return updateId;
  }

  /** A refund made outside the bot: the charge is refunded and refunded_payment delivered. */
  long refundByTelegram(long userId, String chargeId) {
    Charge charge;
    synchronized (lock) {
      charge = testCharge(userId, chargeId);
      if (charge.refunded) {
        throw new IllegalStateException(chargeId + " was already refunded");
      }
      charge.refunded = true;
    }
    ObjectNode refunded = Json.MAPPER.createObjectNode();
    refunded.put("currency", STARS);
    refunded.put("total_amount", charge.payment.stars());
    refunded.put("invoice_payload", charge.payment.payload());
    refunded.put("telegram_payment_charge_id", chargeId);
    refunded.put("provider_payment_charge_id", "");
    return updates.inject(
        userId, updates.languageOf(userId), m -> m.set("refunded_payment", refunded));
  }

  /** Holds lock. */
  private Charge testCharge(long userId, String chargeId) {
    Charge charge = charges.get(chargeId);
    if (charge == null || charge.payment.userId() != userId) {
      throw new IllegalArgumentException("User " + userId + " made no payment " + chargeId);
    }
    return charge;
  }

  /** A first payment: of a pack, or the start of a subscription. */
  private PaymentResult charge(long userId, Invoice invoice) {
    return charge(userId, invoice, invoice.subscription() ? new Subscription(invoice) : null);
  }

  /** Takes the Stars and delivers successful_payment; a subscription is extended 30 days. */
  private PaymentResult charge(long userId, Invoice invoice, Subscription subscription) {
    String chargeId = "stx" + randomText(40);
    Instant now = Instant.now();
    Payment payment;
    ObjectNode paid = Json.MAPPER.createObjectNode();
    paid.put("currency", STARS);
    paid.put("total_amount", invoice.stars());
    paid.put("invoice_payload", invoice.payload());
    paid.put("telegram_payment_charge_id", chargeId);
    paid.put("provider_payment_charge_id", "");
    synchronized (lock) {
      boolean first = subscription != null && subscription.expiration == null;
      Instant expiration = null;
      if (subscription != null) {
        Instant from = first ? now : subscription.expiration;
        expiration = from.plusSeconds(SUBSCRIPTION_PERIOD);
        subscription.expiration = expiration;
        paid.put("subscription_expiration_date", expiration.getEpochSecond());
        paid.put("is_recurring", true);
        paid.put("is_first_recurring", first);
      }
      payment =
          new Payment(
              userId,
              chargeId,
              invoice.payload(),
              invoice.title(),
              invoice.stars(),
              subscription != null,
              expiration,
              subscription != null,
              first,
              false,
              now);
      charges.put(chargeId, new Charge(payment, paid, subscription));
      payments.add(payment);
    }
    announce(payment);
    long updateId =
        updates.inject(
            userId, updates.languageOf(userId), m -> m.set("successful_payment", paid.deepCopy()));
    return new PaymentResult(true, null, chargeId, updateId, true);
  }

  // ---------------------------------------------------------------- records

  void onPayment(Consumer<Payment> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  List<Payment> payments(long userId) {
    synchronized (lock) {
      return payments.stream().filter(p -> p.userId() == userId).toList();
    }
  }

  List<PreCheckoutAnswer> preCheckoutAnswers() {
    synchronized (lock) {
      return List.copyOf(answers);
    }
  }

  List<Refund> refunds() {
    synchronized (lock) {
      return List.copyOf(refunds);
    }
  }

  List<SubscriptionEdit> subscriptionEdits() {
    synchronized (lock) {
      return List.copyOf(edits);
    }
  }

  /** Ends the payments still waiting for an answer, as unanswered. */
  void close() {
    List<Checkout> open;
    synchronized (lock) {
      closed = true;
      open = new ArrayList<>(checkouts.values());
      checkouts.clear();
    }
    for (Checkout checkout : open) {
      checkout.timer.cancel();
      checkout.result.complete(new PaymentResult(false, null, null, 0, false));
    }
  }

  private void announce(Payment payment) {
    for (Consumer<Payment> listener : listeners) {
      try {
        listener.accept(payment);
      } catch (RuntimeException e) {
        log.warn("Payment listener failed", e);
      }
    }
  }

  private static Payment withRedelivered(Payment p) {
    return new Payment(
        p.userId(),
        p.chargeId(),
        p.payload(),
        p.title(),
        p.stars(),
        p.subscription(),
        p.subscriptionExpiration(),
        p.recurring(),
        p.firstRecurring(),
        true,
        Instant.now());
  }

  private long randomId() {
    synchronized (random) {
      return (random.nextLong() & Long.MAX_VALUE) | (1L << 62);
    }
  }

  private String randomText(int length) {
    StringBuilder s = new StringBuilder(length);
    synchronized (random) {
      for (int i = 0; i < length; i++) {
        s.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
      }
    }
    return s.toString();
  }
}
