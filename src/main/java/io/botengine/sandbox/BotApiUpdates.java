package io.botengine.sandbox;

import static io.botengine.sandbox.BotApiReplies.done;
import static io.botengine.sandbox.BotApiReplies.failure;
import static io.botengine.sandbox.BotApiReplies.json;
import static io.botengine.sandbox.BotApiReplies.ok;

import akka.actor.Cancellable;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.OutgoingConnectionBuilder;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.Uri;
import akka.http.javadsl.model.headers.RawHeader;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Backoff;
import io.botengine.Json;
import io.botengine.sandbox.BotApiParams.Failure;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Bot API emulator's updates: what the users did, queued in update_id order until the bot
 * confirms them, and handed to it either by long polling (getUpdates, one poll held open at a time)
 * or, once a webhook is set, POSTed to the webhook one at a time with retries. Guarded by the
 * emulator's lock; long polls are futures completed when an update arrives or by the scheduler.
 */
final class BotApiUpdates {
  private static final Logger log = LoggerFactory.getLogger(BotApiEmulator.class);
  private static final int MAX_WEBHOOK_ATTEMPTS = 100;
  private static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(10);
  private static final Backoff WEBHOOK_BACKOFF =
      Backoff.of(Duration.ofMillis(50), Duration.ofSeconds(1));
  private static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";
  private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9_-]{1,256}");

  private static final class Pending {
    final long updateId;
    final ObjectNode update;
    final boolean redelivery;
    boolean delivered;

    Pending(long updateId, ObjectNode update, boolean redelivery) {
      this.updateId = updateId;
      this.update = update;
      this.redelivery = redelivery;
    }
  }

  private static final class Waiter {
    final int limit;
    final CompletableFuture<HttpResponse> response = new CompletableFuture<>();
    Cancellable timer;

    Waiter(int limit) {
      this.limit = limit;
    }
  }

  private record Wake(Waiter waiter, HttpResponse response) {}

  private final Object lock;
  private final ActorSystem<?> system;
  private final BotApiChats chats;
  private final Map<Long, String> languages = new ConcurrentHashMap<>();
  private long nextUpdateId = 1;
  private long confirmedOffset;
  private boolean closed;
  private final Map<Long, ObjectNode> updates = new HashMap<>();
  private final List<Pending> pending = new ArrayList<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private String webhookUrl;
  private String webhookSecret;
  private boolean webhookBusy;
  private int webhookAttempts;
  private String webhookLastError;

  BotApiUpdates(Object lock, ActorSystem<?> system, BotApiChats chats) {
    this.lock = lock;
    this.system = system;
    this.chats = chats;
  }

  /** The webhook URL set by the bot, if any. */
  Optional<String> webhookUrl() {
    synchronized (lock) {
      return Optional.ofNullable(webhookUrl);
    }
  }

  /** The highest offset the bot confirmed via getUpdates (0 if none). */
  long confirmedOffset() {
    synchronized (lock) {
      return confirmedOffset;
    }
  }

  /** Answers the open long polls with no updates and stops delivery; false if already closed. */
  boolean close() {
    List<Waiter> open;
    synchronized (lock) {
      if (closed) {
        return false;
      }
      closed = true;
      open = new ArrayList<>(waiters);
      waiters.clear();
    }
    for (Waiter waiter : open) {
      waiter.timer.cancel();
      waiter.response.complete(ok(Json.MAPPER.createArrayNode()));
    }
    return true;
  }

  /** Delivers an already injected update once more, with the same update_id; returns it. */
  long redeliver(long updateId) {
    Wake wake;
    synchronized (lock) {
      ObjectNode update = updates.get(updateId);
      if (update == null) {
        throw new IllegalArgumentException("No update " + updateId + " was injected");
      }
      pending.add(new Pending(updateId, update, true));
      wake = wakeWaiter();
    }
    deliver(wake);
    return updateId;
  }

  /** Waits (blocking, for tests) until a getUpdates long poll is held open; false on timeout. */
  boolean awaitLongPoll(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (waiters.isEmpty()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }
  }

  /** The language_code a user's messages carry: the last one given, as in Telegram. */
  String languageOf(long userId) {
    return languages.getOrDefault(userId, "en");
  }

  /** Queues a user's message built by {@code content}; returns its update_id. */
  long inject(long userId, String languageCode, Consumer<ObjectNode> content) {
    return inject(userId, userId, languageCode, content);
  }

  /**
   * Queues a message a user wrote in {@code chatId}: their private chat (the user's id) or a group
   * (a negative id, as Telegram's are); returns its update_id.
   */
  long inject(long userId, long chatId, String languageCode, Consumer<ObjectNode> content) {
    if (languageCode != null) {
      languages.put(userId, languageCode);
    }
    Wake wake;
    long updateId;
    synchronized (lock) {
      long messageId = chats.nextMessageId(chatId);
      ObjectNode message = Json.MAPPER.createObjectNode();
      message.put("message_id", messageId);
      message.set("from", user(userId, languageCode));
      message.set("chat", chatId == userId ? chats.privateChat(userId) : groupChat(chatId));
      message.put("date", Instant.now().getEpochSecond());
      content.accept(message);
      String text = message.hasNonNull("text") ? message.get("text").asText() : null;
      chats.userWrote(chatId, messageId, text);
      updateId = queue("message", message);
      wake = wakeWaiter();
    }
    deliver(wake);
    return updateId;
  }

  private static ObjectNode groupChat(long chatId) {
    ObjectNode chat = Json.MAPPER.createObjectNode();
    chat.put("id", chatId);
    chat.put("title", "Group " + chatId);
    chat.put("type", "supergroup");
    return chat;
  }

  /** Queues an update that is not a message, e.g. a pre_checkout_query; returns its update_id. */
  long inject(String kind, ObjectNode value) {
    Wake wake;
    long updateId;
    synchronized (lock) {
      updateId = queue(kind, value);
      wake = wakeWaiter();
    }
    deliver(wake);
    return updateId;
  }

  /** A user as updates show them (a message's or a query's {@code from}). */
  ObjectNode user(long userId, String languageCode) {
    ObjectNode from = Json.MAPPER.createObjectNode();
    from.put("id", userId);
    from.put("is_bot", false);
    from.put("first_name", "User " + userId);
    if (languageCode != null) {
      from.put("language_code", languageCode);
    }
    return from;
  }

  /** Holds lock. */
  private long queue(String kind, ObjectNode value) {
    long updateId = nextUpdateId++;
    ObjectNode update = Json.MAPPER.createObjectNode();
    update.put("update_id", updateId);
    update.set(kind, value);
    updates.put(updateId, update);
    pending.add(new Pending(updateId, update, false));
    return updateId;
  }

  // ---------------------------------------------------------------- long polling

  CompletionStage<HttpResponse> getUpdates(BotApiParams p) {
    long offset = p.longValue("offset", 0);
    int limit = (int) Math.max(1, Math.min(100, p.longValue("limit", 100)));
    long timeout = Math.max(0, p.longValue("timeout", 0));
    List<Waiter> displaced;
    Waiter waiter;
    synchronized (lock) {
      if (webhookUrl != null) {
        throw new Failure(
            409,
            "Conflict: can't use getUpdates method while webhook is active;"
                + " use deleteWebhook to delete the webhook first",
            null);
      }
      confirm(offset);
      ArrayNode batch = take(limit);
      if (!batch.isEmpty() || timeout == 0 || closed) {
        return done(ok(batch));
      }
      displaced = new ArrayList<>(waiters);
      waiters.clear();
      Waiter w = new Waiter(limit);
      w.timer =
          system
              .scheduler()
              .scheduleOnce(
                  Duration.ofSeconds(timeout), () -> expire(w), system.executionContext());
      waiters.add(w);
      lock.notifyAll();
      waiter = w;
    }
    HttpResponse conflict =
        failure(
            409,
            "Conflict: terminated by other getUpdates request;"
                + " make sure that only one bot instance is running",
            null);
    displaced.forEach(d -> terminate(d, conflict));
    return waiter.response;
  }

  private void expire(Waiter waiter) {
    boolean waiting;
    synchronized (lock) {
      waiting = waiters.remove(waiter);
    }
    if (waiting) {
      waiter.response.complete(ok(Json.MAPPER.createArrayNode()));
    }
  }

  private void terminate(Waiter waiter, HttpResponse response) {
    waiter.timer.cancel();
    system.executionContext().execute(() -> waiter.response.complete(response));
  }

  /** Forgets updates below offset (a redelivery only once it was delivered). Holds lock. */
  private void confirm(long offset) {
    if (offset < 0) {
      List<Long> ids = pending.stream().map(e -> e.updateId).sorted().toList();
      offset = ids.size() + offset >= 0 ? ids.get((int) (ids.size() + offset)) : 0;
    }
    if (offset <= 0) {
      return;
    }
    long below = offset;
    pending.removeIf(e -> e.updateId < below && (!e.redelivery || e.delivered));
    confirmedOffset = Math.max(confirmedOffset, offset);
  }

  /** The unconfirmed updates, in update_id order, marked delivered. Holds lock. */
  private ArrayNode take(int limit) {
    ArrayNode batch = Json.MAPPER.createArrayNode();
    pending.stream()
        .sorted(Comparator.comparingLong(e -> e.updateId))
        .limit(limit)
        .forEach(
            e -> {
              e.delivered = true;
              batch.add(e.update);
            });
    return batch;
  }

  /** Hands the pending updates to a waiting long poll, if any. Holds lock. */
  private Wake wakeWaiter() {
    if (waiters.isEmpty() || pending.isEmpty()) {
      return null;
    }
    Waiter waiter = waiters.remove(0);
    return new Wake(waiter, ok(take(waiter.limit)));
  }

  private void deliver(Wake wake) {
    if (wake != null) {
      terminate(wake.waiter(), wake.response());
    }
    pumpWebhook();
  }

  // ---------------------------------------------------------------- webhook

  HttpResponse setWebhook(BotApiParams p) {
    String url = p.text("url");
    String secret = p.text("secret_token");
    if (secret != null && secret.isEmpty()) {
      secret = null;
    }
    if (secret != null && !SECRET.matcher(secret).matches()) {
      throw Failure.badRequest("secret token contains unallowed characters");
    }
    if (url != null && !url.isBlank()) {
      String scheme;
      try {
        scheme = URI.create(url).getScheme();
      } catch (IllegalArgumentException e) {
        scheme = null;
      }
      if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
        throw Failure.badRequest("bad webhook: An HTTPS URL must be provided for webhook");
      }
    }
    List<Waiter> displaced;
    synchronized (lock) {
      if (p.bool("drop_pending_updates")) {
        pending.clear();
      }
      if (url == null || url.isBlank()) {
        webhookUrl = null;
        webhookSecret = null;
        return ok(BooleanNode.TRUE, "Webhook was deleted");
      }
      webhookUrl = url;
      webhookSecret = secret;
      webhookLastError = null;
      displaced = new ArrayList<>(waiters);
      waiters.clear();
    }
    HttpResponse conflict = failure(409, "Conflict: terminated by setWebhook request", null);
    displaced.forEach(d -> terminate(d, conflict));
    log.info("Bot API emulator: webhook set");
    pumpWebhook();
    return ok(BooleanNode.TRUE, "Webhook was set");
  }

  HttpResponse deleteWebhook(BotApiParams p) {
    synchronized (lock) {
      if (p.bool("drop_pending_updates")) {
        pending.clear();
      }
      boolean wasSet = webhookUrl != null;
      webhookUrl = null;
      webhookSecret = null;
      return ok(BooleanNode.TRUE, wasSet ? "Webhook was deleted" : "Webhook is already deleted");
    }
  }

  HttpResponse webhookInfo() {
    ObjectNode info = Json.MAPPER.createObjectNode();
    synchronized (lock) {
      info.put("url", webhookUrl == null ? "" : webhookUrl);
      info.put("has_custom_certificate", false);
      info.put("pending_update_count", pending.size());
      if (webhookUrl != null) {
        info.put("max_connections", 40);
      }
      if (webhookLastError != null) {
        info.put("last_error_date", Instant.now().getEpochSecond());
        info.put("last_error_message", webhookLastError);
      }
    }
    return ok(info);
  }

  /** Starts delivering the oldest pending update to the webhook, unless one is under way. */
  private void pumpWebhook() {
    Pending next;
    String url;
    String secret;
    synchronized (lock) {
      if (closed || webhookUrl == null || webhookBusy || pending.isEmpty()) {
        return;
      }
      webhookBusy = true;
      next = pending.get(0);
      url = webhookUrl;
      secret = webhookSecret;
    }
    postUpdate(url, secret, next.update)
        .whenCompleteAsync(
            (status, error) -> onWebhookResult(next, status, error), system.executionContext());
  }

  /** POSTs one update on a connection of its own; completes with the HTTP status. */
  private CompletionStage<Integer> postUpdate(String url, String secret, ObjectNode update) {
    try {
      Uri uri = Uri.create(url);
      boolean https = uri.scheme().equals("https");
      int port = uri.port() > 0 ? uri.port() : https ? 443 : 80;
      OutgoingConnectionBuilder connection =
          Http.get(system).connectionTo(uri.host().address()).toPort(port);
      HttpRequest request =
          HttpRequest.POST(uri.toRelative().toString())
              .withEntity(ContentTypes.APPLICATION_JSON, json(update));
      if (secret != null) {
        request = request.addHeader(RawHeader.create(SECRET_HEADER, secret));
      }
      return Source.single(request)
          .via(https ? connection.https() : connection.http())
          .completionTimeout(WEBHOOK_TIMEOUT)
          .runWith(Sink.head(), system)
          .thenApplyAsync(
              response -> {
                response.discardEntityBytes(system);
                return response.status().intValue();
              },
              system.executionContext());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private void onWebhookResult(Pending delivered, Integer status, Throwable error) {
    boolean success = error == null && status >= 200 && status < 300;
    synchronized (lock) {
      if (success) {
        pending.remove(delivered);
        webhookAttempts = 0;
        webhookBusy = false;
      } else {
        webhookAttempts++;
        webhookLastError = error != null ? String.valueOf(error.getMessage()) : "HTTP " + status;
        log.debug(
            "Webhook delivery of update {} failed (attempt {}): {}",
            delivered.updateId,
            webhookAttempts,
            webhookLastError);
        if (webhookAttempts >= MAX_WEBHOOK_ATTEMPTS) {
          log.warn(
              "Webhook delivery of update {} abandoned after {} attempts",
              delivered.updateId,
              webhookAttempts);
          pending.remove(delivered);
          webhookAttempts = 0;
          webhookBusy = false;
        } else if (!closed) {
          scheduleRetry(WEBHOOK_BACKOFF.delay(webhookAttempts - 1));
          return;
        } else {
          webhookBusy = false;
        }
      }
    }
    pumpWebhook();
  }

  /** Holds lock. */
  private void scheduleRetry(Duration delay) {
    try {
      system
          .scheduler()
          .scheduleOnce(
              delay,
              () -> {
                synchronized (lock) {
                  webhookBusy = false;
                }
                pumpWebhook();
              },
              system.executionContext());
    } catch (IllegalStateException e) {
      webhookBusy = false;
    }
  }
}
