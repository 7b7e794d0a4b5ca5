package io.botengine.sandbox;

import static io.botengine.sandbox.BotApiReplies.done;
import static io.botengine.sandbox.BotApiReplies.failure;
import static io.botengine.sandbox.BotApiReplies.ok;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Json;
import io.botengine.sandbox.BotApiFiles.StoredFile;
import io.botengine.sandbox.BotApiParams.Failure;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process Telegram Bot API for tests, the sandbox and benchmarks: an Akka HTTP server that
 * speaks the Bot API wire format ({@code /bot<token>/<method>}, {@code /file/bot<token>/<path>}),
 * lets the caller play the users (injected updates, served by long polling or POSTed to a webhook)
 * and records what the bot did.
 *
 * <p>This class is the emulator's face (what tests and the sandbox call) and its HTTP dispatch,
 * with the bot's commands; its sections live beside it: {@link BotApiUpdates} (updates, long
 * polling, webhook), {@link BotApiChats} (messages and the record of what the bot sent), {@link
 * BotApiFiles} (files), {@link BotApiPayments} (payments in Telegram Stars) and {@link
 * BotApiReplies} (the answer envelope). All share one lock; HTTP handlers never block (long polls
 * and payments waiting for the bot's answer are futures completed by a later call or by the actor
 * system's scheduler). Only {@link #start}, {@link #awaitSent}, {@link #pay} and {@link #close}
 * block their caller, and are meant for test and main threads.
 */
public final class BotApiEmulator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BotApiEmulator.class);
  /** The name {@link #slowNext} knows file downloads by. */
  public static final String FILE_DOWNLOAD = "file download";

  private final java.util.concurrent.atomic.AtomicInteger downloadsReceived =
      new java.util.concurrent.atomic.AtomicInteger();

  private static final long MAX_REQUEST_BYTES = 64L * 1024 * 1024;
  private static final Pattern COMMAND = Pattern.compile("[a-z0-9_]{1,32}");
  private static final Pattern LEADING_COMMAND = Pattern.compile("^/[A-Za-z0-9_]{1,32}(@\\w+)?");
  private static final Map<String, String> METHODS =
      List.of(
              "getMe",
              "getUpdates",
              "setWebhook",
              "deleteWebhook",
              "getWebhookInfo",
              "sendMessage",
              "sendMessageDraft",
              "sendDocument",
              "getFile",
              "editMessageText",
              "deleteMessage",
              "sendChatAction",
              "setMyCommands",
              "getMyCommands",
              "deleteMyCommands",
              "sendInvoice",
              "createInvoiceLink",
              "answerPreCheckoutQuery",
              "refundStarPayment",
              "editUserStarSubscription")
          .stream()
          .collect(Collectors.toUnmodifiableMap(m -> m.toLowerCase(Locale.ROOT), m -> m));

  /**
   * One successful bot call that changed a chat. {@code method} is sendMessage, sendDocument,
   * sendInvoice, editMessageText, deleteMessage, sendChatAction or sendMessageDraft;
   * {@code messageId} is the message sent, edited or deleted (0 for sendChatAction, whose action is
   * in {@code text}; the draft id for sendMessageDraft); {@code text} and {@code caption} are as
   * the bot sent them, markup included; {@code replyMarkup} is the reply_markup JSON as sent (or
   * null); {@code invoice} is what the message offers: the invoice of a sendInvoice, or the invoice
   * behind the first inline button that links to one of this emulator's invoice links (else null).
   */
  public record Sent(
      long messageId,
      String method,
      long chatId,
      String text,
      String parseMode,
      String fileName,
      byte[] document,
      String caption,
      Instant at,
      String replyMarkup,
      Invoice invoice) {
    /** A call that carries at most a text: no file, no markup, no invoice; timed now. */
    static Sent call(long messageId, String method, long chatId, String text, String parseMode) {
      return new Sent(messageId, method, chatId, text, parseMode, null, null, null, Instant.now(),
          null, null);
    }

    @Override
    public String toString() {
      StringBuilder s = new StringBuilder(method).append('#').append(messageId);
      s.append("(chat ").append(chatId);
      if (text != null) {
        s.append(", text=").append(abbreviate(text));
      }
      if (parseMode != null) {
        s.append(", parseMode=").append(parseMode);
      }
      if (document != null) {
        s.append(", file=").append(fileName).append(" [").append(document.length).append(" B]");
      }
      if (caption != null) {
        s.append(", caption=").append(abbreviate(caption));
      }
      if (invoice != null) {
        s.append(", invoice=").append(invoice.payload()).append(' ').append(invoice.stars());
        s.append(" XTR");
      }
      return s.append(')').toString();
    }

    private static String abbreviate(String s) {
      String quoted = '"' + s.replace("\n", "\\n") + '"';
      return quoted.length() > 120 ? quoted.substring(0, 117) + "...\"" : quoted;
    }
  }

  /**
   * An offer the bot made to a user in Telegram Stars: a sendInvoice message ({@code link} null),
   * or a message whose inline button links to an invoice made by createInvoiceLink ({@code link}
   * set; {@code subscription} when the link was made with a subscription_period). {@code stars} is
   * the one price's amount.
   */
  public record Invoice(
      long userId,
      long messageId,
      String title,
      String description,
      String payload,
      int stars,
      boolean subscription,
      String link,
      Instant at) {
    /** This offer as shown to {@code userId} in message {@code messageId}. */
    Invoice offeredTo(long userId, long messageId, Instant at) {
      return new Invoice(
          userId, messageId, title, description, payload, stars, subscription, link, at);
    }
  }

  /**
   * What became of a payment the test side started. {@code ok}: the successful_payment was
   * delivered as update {@code updateId} with charge {@code chargeId}. Otherwise nothing was paid:
   * the bot refused with {@code errorMessage}, or did not answer the pre_checkout_query in time
   * ({@code answered} false).
   */
  public record PaymentResult(
      boolean ok, String errorMessage, String chargeId, long updateId, boolean answered) {}

  /**
   * A successful payment delivered to the bot: the first of a pack or subscription, a renewal, or
   * one delivered again ({@code redelivered}). {@code subscriptionExpiration} is null for packs.
   */
  public record Payment(
      long userId,
      String chargeId,
      String payload,
      String title,
      int stars,
      boolean subscription,
      Instant subscriptionExpiration,
      boolean recurring,
      boolean firstRecurring,
      boolean redelivered,
      Instant at) {}

  /** The bot's answerPreCheckoutQuery, as accepted (an answer too late is refused, not kept). */
  public record PreCheckoutAnswer(
      String queryId, long userId, String payload, boolean ok, String errorMessage, Instant at) {}

  /** A refundStarPayment the bot made and the emulator accepted. */
  public record Refund(long userId, String chargeId, String payload, int stars, Instant at) {}

  /** An editUserStarSubscription the bot made and the emulator accepted. */
  public record SubscriptionEdit(long userId, String chargeId, boolean canceled, Instant at) {}

  private final ActorSystem<?> system;
  private final String token;
  private final Object lock = new Object();
  private final BotApiFiles files;
  private final BotApiChats chats;
  private final BotApiUpdates updates;
  private final BotApiPayments payments;
  private volatile ServerBinding binding;
  private volatile boolean draftsRefused;

  private final List<String> callLog = new ArrayList<>();
  private final Map<String, Deque<Failure>> faults = new HashMap<>();
  private final Map<String, Deque<Duration>> delays = new HashMap<>();
  private List<Map<String, Object>> myCommands = List.of();

  private BotApiEmulator(ActorSystem<?> system, String token) {
    this.system = system;
    this.token = Objects.requireNonNull(token, "token");
    this.files = new BotApiFiles(lock, token);
    this.chats = new BotApiChats(lock, files, token, this::linkedInvoice);
    this.updates = new BotApiUpdates(lock, system, chats);
    this.payments = new BotApiPayments(lock, system, chats, updates);
  }

  /** Binds on host:port (port 0: any free port); blocks the calling thread until bound. */
  public static BotApiEmulator start(ActorSystem<?> system, String host, int port, String token) {
    BotApiEmulator emulator = new BotApiEmulator(system, token);
    Route route =
        Directives.withSizeLimit(
            MAX_REQUEST_BYTES,
            () -> Directives.withoutRequestTimeout(() -> Directives.handle(emulator::handle)));
    try {
      emulator.binding =
          Http.get(system)
              .newServerAt(host, port)
              .bind(route)
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while binding the Bot API emulator", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("Bot API emulator could not bind " + host + ":" + port, e);
    }
    log.info("Bot API emulator listening on {}", emulator.baseUrl());
    return emulator;
  }

  /** The URL to give the engine as its Telegram API URL, e.g. {@code http://127.0.0.1:PORT}. */
  public String baseUrl() {
    InetSocketAddress address = binding.localAddress();
    String host =
        address.getAddress() == null || address.getAddress().isAnyLocalAddress()
            ? "127.0.0.1"
            : address.getAddress().getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
  }

  /** The bound port. */
  public int port() {
    return binding.localAddress().getPort();
  }

  /** The only bot token this emulator accepts. */
  public String token() {
    return token;
  }

  /**
   * Injects a text message from a user in their last language ("en" at first); returns its
   * update_id.
   */
  public long sendText(long userId, String text) {
    return sendText(userId, text, updates.languageOf(userId));
  }

  /** Injects a text message from a user with the given language_code; returns its update_id. */
  public long sendText(long userId, String text, String languageCode) {
    return updates.inject(userId, languageCode, message -> textMessage(message, text));
  }

  /** A text message, with its leading bot command marked as Telegram marks it. */
  private static void textMessage(ObjectNode message, String text) {
    message.put("text", text);
    Matcher command = LEADING_COMMAND.matcher(text);
    if (command.find()) {
      ObjectNode entity = message.putArray("entities").addObject();
      entity.put("offset", 0);
      entity.put("length", command.end());
      entity.put("type", "bot_command");
    }
  }

  /**
   * Injects a text message a user wrote in a group ({@code groupChatId}, negative as Telegram's
   * group ids are); returns its update_id.
   */
  public long sendGroupText(long userId, long groupChatId, String text) {
    return updates.inject(userId, groupChatId, updates.languageOf(userId),
        message -> textMessage(message, text));
  }

  /** Injects a document from a user, its file_size the content's length; returns its update_id. */
  public long sendDocument(long userId, String fileName, String mimeType, byte[] content) {
    return sendDocument(userId, fileName, mimeType, content, content.length);
  }

  /** Injects a document whose file_size (in the update and in getFile) is reportedSize. */
  public long sendDocument(
      long userId, String fileName, String mimeType, byte[] content, long reportedSize) {
    byte[] copy = content.clone();
    return updates.inject(
        userId,
        updates.languageOf(userId),
        message -> {
          StoredFile file = files.store(fileName, mimeType, copy, reportedSize, "documents");
          message.set("document", BotApiFiles.documentJson(file));
        });
  }

  /** Injects a photo (neither text nor document) from a user; returns its update_id. */
  public long sendPhoto(long userId) {
    return updates.inject(
        userId,
        updates.languageOf(userId),
        message -> {
          ArrayNode photo = message.putArray("photo");
          int[][] sizes = {{90, 67, 1_412}, {320, 240, 21_560}, {800, 600, 82_904}};
          for (int[] size : sizes) {
            StoredFile file = files.store(null, "image/jpeg", new byte[0], size[2], "photos");
            ObjectNode p = photo.addObject();
            p.put("file_id", file.fileId());
            p.put("file_unique_id", file.uniqueId());
            p.put("file_size", size[2]);
            p.put("width", size[0]);
            p.put("height", size[1]);
          }
        });
  }

  /** Delivers an already injected update once more, with the same update_id; returns it. */
  public long redeliver(long updateId) {
    return updates.redeliver(updateId);
  }

  /** Every successful bot call that changed a chat, in arrival order. */
  public List<Sent> sent() {
    return chats.sent();
  }

  /** The {@link #sent()} entries of one chat. */
  public List<Sent> sentTo(long chatId) {
    synchronized (lock) {
      return chats.sentToLocked(chatId);
    }
  }

  /** Blocks until chatId has count Sent entries and returns them; AssertionError on timeout. */
  public List<Sent> awaitSent(long chatId, int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (true) {
        List<Sent> got = chats.sentToLocked(chatId);
        if (got.size() >= count) {
          return got;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          List<String> lastCalls =
              callLog.subList(Math.max(0, callLog.size() - 40), callLog.size());
          throw new AssertionError(
              "Expected at least "
                  + count
                  + " bot calls to chat "
                  + chatId
                  + " within "
                  + timeout
                  + ", got "
                  + got.size()
                  + ": "
                  + got
                  + "; last calls received: "
                  + lastCalls);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("Interrupted while waiting for bot calls to chat " + chatId, e);
        }
      }
    }
  }

  /** Waits (blocking, for tests) until a getUpdates long poll is held open; false on timeout. */
  boolean awaitLongPoll(Duration timeout) {
    return updates.awaitLongPoll(timeout);
  }

  /** Calls the listener for each new Sent, on HTTP handler threads: it must not block. */
  public void onSent(Consumer<Sent> listener) {
    chats.onSent(listener);
  }

  /** Method names of every call received with the right token, in order. */
  public List<String> callLog() {
    synchronized (lock) {
      return List.copyOf(callLog);
    }
  }

  /** The webhook URL set by the bot, if any. */
  public Optional<String> webhookUrl() {
    return updates.webhookUrl();
  }

  /** The highest offset the bot confirmed via getUpdates (0 if none). */
  public long confirmedOffset() {
    return updates.confirmedOffset();
  }

  /** The commands of the last setMyCommands call (empty after deleteMyCommands). */
  public List<Map<String, Object>> myCommands() {
    synchronized (lock) {
      return myCommands;
    }
  }

  /** Calls that count against Telegram's bot-wide limit of about 30 per second. */
  private static final Set<String> RATE_LIMITED = Set.of("sendMessage", "sendDocument",
      "editMessageText", "deleteMessage", "sendChatAction", "sendInvoice", "sendMessageDraft");

  private final ArrayDeque<Long> recentLimitedCalls = new ArrayDeque<>();
  private int strictRate;
  private int rateRefusals;

  /**
   * From now on a call beyond {@code perSecond} within any one second is answered 429 with
   * retry_after 1, as Telegram does under flood; 0 turns it off. Counted: message sends, edits,
   * deletions, chat actions, invoices, drafts.
   */
  public void strictRate(int perSecond) {
    synchronized (lock) {
      strictRate = perSecond;
      recentLimitedCalls.clear();
    }
  }

  private final java.util.concurrent.atomic.AtomicInteger paidBroadcasts =
      new java.util.concurrent.atomic.AtomicInteger();

  /** How many calls came with {@code allow_paid_broadcast: true}. */
  public int paidBroadcasts() {
    return paidBroadcasts.get();
  }

  /** How many calls {@link #strictRate} answered with 429. */
  public int rateRefusals() {
    synchronized (lock) {
      return rateRefusals;
    }
  }

  /** Holds lock. A 429 when this call would exceed the strict rate, else null. */
  private Failure overStrictRate(String method) {
    if (strictRate <= 0 || !RATE_LIMITED.contains(method)) {
      return null;
    }
    long now = System.nanoTime();
    while (!recentLimitedCalls.isEmpty()
        && now - recentLimitedCalls.peekFirst() >= 1_000_000_000L) {
      recentLimitedCalls.pollFirst();
    }
    if (recentLimitedCalls.size() >= strictRate) {
      rateRefusals++;
      return new Failure(429, "Too Many Requests: retry after 1", 1);
    }
    recentLimitedCalls.addLast(now);
    return null;
  }

  /**
   * Whether sendMessageDraft answers every chat 400 TEXTDRAFT_PEER_INVALID, as for a group: the
   * engine must fall back to editing a message.
   */
  public void refuseDrafts(boolean refuse) {
    draftsRefused = refuse;
  }

  /** The next {@code times} calls of method get this error instead of being executed. */
  public void failNext(
      String method, int times, int errorCode, String description, Integer retryAfterSeconds) {
    String name = canonical(method);
    synchronized (lock) {
      Deque<Failure> queue = faults.computeIfAbsent(name, k -> new ArrayDeque<>());
      for (int i = 0; i < times; i++) {
        queue.add(new Failure(errorCode, description, retryAfterSeconds));
      }
    }
  }

  /**
   * The next {@code times} calls of method are executed, but answered only after {@code delay};
   * {@link #FILE_DOWNLOAD} as the method delays file downloads ({@code /file/bot<token>/...}).
   */
  public void slowNext(String method, int times, Duration delay) {
    String name = canonical(method);
    synchronized (lock) {
      Deque<Duration> queue = delays.computeIfAbsent(name, k -> new ArrayDeque<>());
      for (int i = 0; i < times; i++) {
        queue.add(delay);
      }
    }
  }

  /** File downloads ({@code /file/bot<token>/...}) received so far, answered or not. */
  public int downloadsReceived() {
    return downloadsReceived.get();
  }

  // ---------------------------------------------------------------- payments in Telegram Stars

  /**
   * What the bot offered the user, in order: invoices sent with sendInvoice and messages whose
   * inline button links to an invoice made by createInvoiceLink (subscriptions among them).
   */
  public List<Invoice> invoices(long userId) {
    return payments.invoices(userId);
  }

  /** The last invoice with this payload offered to the user; IllegalArgumentException if none. */
  public Invoice invoice(long userId, String payload) {
    return payments.invoice(userId, payload);
  }

  /**
   * The user pays the invoice, as Telegram does it: a pre_checkout_query goes to the bot; when the
   * bot answers ok within {@link #preCheckoutTimeout} the Stars are taken and a successful_payment
   * message delivered (a fresh charge id; a subscription: expiring in 30 days, is_recurring and
   * is_first_recurring true). Refused or unanswered: nothing is paid. The invoice may be one the
   * bot offered another user (as a forwarded invoice). Never blocks.
   */
  public CompletionStage<PaymentResult> payAsync(long userId, Invoice invoice) {
    return payments.pay(userId, invoice);
  }

  /** {@link #payAsync} of the last invoice with this payload offered to the user. */
  public CompletionStage<PaymentResult> payAsync(long userId, String payload) {
    return payments.pay(userId, payments.invoice(userId, payload));
  }

  /** {@link #payAsync}, waiting (blocking, for tests) for the outcome. */
  public PaymentResult pay(long userId, Invoice invoice) {
    return await(payAsync(userId, invoice));
  }

  /** {@link #payAsync} of the last invoice with this payload, waiting for the outcome. */
  public PaymentResult pay(long userId, String payload) {
    return await(payAsync(userId, payload));
  }

  private PaymentResult await(CompletionStage<PaymentResult> result) {
    Duration limit = payments.preCheckoutTimeout().plusSeconds(10);
    try {
      return result.toCompletableFuture().get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("Interrupted while paying", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError("The payment had no outcome within " + limit, e);
    }
  }

  /** How long a payment waits for the bot's answerPreCheckoutQuery: 10 s, as Telegram. */
  public Duration preCheckoutTimeout() {
    return payments.preCheckoutTimeout();
  }

  /** Changes how long payments started from now on wait for the bot's answer. */
  public void preCheckoutTimeout(Duration timeout) {
    payments.preCheckoutTimeout(timeout);
  }

  /**
   * The next period of the subscription that {@code chargeId} (any of its payments) paid, as
   * Telegram renews it: no pre-checkout; a new charge id, expiration 30 days after the last one,
   * is_recurring true, is_first_recurring false. IllegalStateException once the bot canceled it.
   */
  public PaymentResult renewSubscription(long userId, String chargeId) {
    return payments.renew(userId, chargeId);
  }

  /** The successful_payment of {@code chargeId} delivered again, as a new update; its update_id. */
  public long redeliverPayment(long userId, String chargeId) {
    return payments.redeliver(userId, chargeId);
  }

  /**
   * A refund made outside the bot (the user's dispute, Telegram's support): the charge is refunded
   * (the bot can refund it no more) and a refunded_payment message delivered; its update_id.
   */
  public long refundByTelegram(long userId, String chargeId) {
    return payments.refundByTelegram(userId, chargeId);
  }

  /** Every successful payment delivered to the user's bot, in order, deliveries again included. */
  public List<Payment> payments(long userId) {
    return payments.payments(userId);
  }

  /** Calls the listener for each successful payment before it is delivered; must not block. */
  public void onPayment(Consumer<Payment> listener) {
    payments.onPayment(listener);
  }

  /** The bot's accepted answerPreCheckoutQuery calls, in order. */
  public List<PreCheckoutAnswer> preCheckoutAnswers() {
    return payments.preCheckoutAnswers();
  }

  /** The bot's accepted refundStarPayment calls, in order. */
  public List<Refund> refunds() {
    return payments.refunds();
  }

  /** The bot's accepted editUserStarSubscription calls, in order. */
  public List<SubscriptionEdit> subscriptionEdits() {
    return payments.subscriptionEdits();
  }

  /** Answers pending long polls, stops webhook delivery and unbinds; blocks up to a few seconds. */
  @Override
  public void close() {
    payments.close();
    if (!updates.close()) {
      return;
    }
    try {
      binding.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("Bot API emulator did not unbind cleanly", e);
    }
  }

  // ---------------------------------------------------------------- HTTP

  private CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    if (path.startsWith("/file/bot")) {
      downloadsReceived.incrementAndGet();
      request.discardEntityBytes(system);
      return later(done(files.download(path.substring("/file/bot".length()))),
          nextDelay(FILE_DOWNLOAD));
    }
    if (!path.startsWith("/bot")) {
      request.discardEntityBytes(system);
      return done(failure(404, "Not Found", null));
    }
    int slash = path.indexOf('/', 4);
    String callToken = slash < 0 ? path.substring(4) : path.substring(4, slash);
    if (!callToken.equals(token)) {
      request.discardEntityBytes(system);
      return done(failure(401, "Unauthorized", null));
    }
    String method = canonical(slash < 0 ? "" : path.substring(slash + 1));
    Failure fault;
    Duration delay;
    synchronized (lock) {
      callLog.add(method);
      Deque<Failure> queue = faults.get(method);
      fault = queue == null ? null : queue.poll();
      if (fault == null) {
        fault = overStrictRate(method);
      }
      delay = nextDelay(method);
    }
    log.debug("Bot API call {}", method);
    if (fault != null || !METHODS.containsValue(method)) {
      request.discardEntityBytes(system);
      return done(fault != null ? failure(fault) : failure(404, "Not Found", null));
    }
    CompletionStage<HttpResponse> answer =
        BotApiParams.read(
                request, system, system.executionContext(), Json.MAPPER, MAX_REQUEST_BYTES)
            // Runs where the parameters were read: on this thread for a body already in memory
            // (no hop to another task), on the executor otherwise.
            .thenCompose(params -> call(method, params))
            .exceptionally(BotApiReplies::failure);
    return later(answer, delay);
  }

  /** The delay slowNext queued for the next call of {@code name}, or null. */
  private Duration nextDelay(String name) {
    synchronized (lock) {
      Deque<Duration> slow = delays.get(name);
      return slow == null ? null : slow.poll();
    }
  }

  private CompletionStage<HttpResponse> later(
      CompletionStage<HttpResponse> answer, Duration delay) {
    if (delay == null) {
      return answer;
    }
    return answer.thenCompose(
        response ->
            akka.pattern.Patterns.after(
                delay,
                system.classicSystem().scheduler(),
                system.executionContext(),
                () -> CompletableFuture.completedFuture(response)));
  }

  private CompletionStage<HttpResponse> call(String method, BotApiParams p) {
    if (p.bool("allow_paid_broadcast")) {
      paidBroadcasts.incrementAndGet();
    }
    switch (method) {
      case "getUpdates":
        return updates.getUpdates(p);
      case "getMe":
        return done(ok(chats.botUser()));
      case "setWebhook":
        return done(updates.setWebhook(p));
      case "deleteWebhook":
        return done(updates.deleteWebhook(p));
      case "getWebhookInfo":
        return done(updates.webhookInfo());
      case "sendMessage":
        return done(chats.sendMessage(p));
      case "sendMessageDraft":
        if (draftsRefused) {
          return done(failure(400, "Bad Request: TEXTDRAFT_PEER_INVALID", null));
        }
        return done(chats.sendMessageDraft(p));
      case "sendDocument":
        return done(chats.sendDocument(p));
      case "getFile":
        return done(files.getFile(p));
      case "editMessageText":
        return done(chats.editMessageText(p));
      case "deleteMessage":
        return done(chats.deleteMessage(p));
      case "sendChatAction":
        return done(chats.sendChatAction(p));
      case "setMyCommands":
        return done(setMyCommands(p));
      case "getMyCommands":
        return done(getMyCommands());
      case "deleteMyCommands":
        return done(deleteMyCommands());
      case "sendInvoice":
        return done(payments.sendInvoice(p));
      case "createInvoiceLink":
        return done(payments.createInvoiceLink(p));
      case "answerPreCheckoutQuery":
        return done(payments.answerPreCheckoutQuery(p));
      case "refundStarPayment":
        return done(payments.refundStarPayment(p));
      case "editUserStarSubscription":
        return done(payments.editUserStarSubscription(p));
      default:
        return done(failure(404, "Not Found", null));
    }
  }

  // ---------------------------------------------------------------- commands

  private HttpResponse setMyCommands(BotApiParams p) {
    JsonNode commands = p.json("commands");
    if (commands == null || !commands.isArray()) {
      throw Failure.badRequest("parameter \"commands\" is required");
    }
    for (JsonNode command : commands) {
      if (!COMMAND.matcher(command.path("command").asText("")).matches()) {
        throw Failure.badRequest("BOT_COMMAND_INVALID");
      }
      String description = command.path("description").asText("");
      if (description.isBlank() || description.length() > 256) {
        throw Failure.badRequest("BOT_COMMAND_DESCRIPTION_INVALID");
      }
    }
    List<Map<String, Object>> list =
        Json.MAPPER.convertValue(commands, new TypeReference<List<Map<String, Object>>>() {});
    synchronized (lock) {
      myCommands =
          list.stream().map(c -> Collections.unmodifiableMap(new LinkedHashMap<>(c))).toList();
    }
    return ok(BooleanNode.TRUE);
  }

  private HttpResponse getMyCommands() {
    synchronized (lock) {
      return ok(Json.MAPPER.valueToTree(myCommands));
    }
  }

  private HttpResponse deleteMyCommands() {
    synchronized (lock) {
      myCommands = List.of();
    }
    return ok(BooleanNode.TRUE);
  }

  /** The invoice behind one of this emulator's invoice links, or null (for the chats). */
  private Invoice linkedInvoice(String url) {
    return payments.linked(url);
  }

  private static String canonical(String method) {
    return METHODS.getOrDefault(method.toLowerCase(Locale.ROOT), method);
  }
}
