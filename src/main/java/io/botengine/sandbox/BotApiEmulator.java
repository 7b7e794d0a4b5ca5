package io.botengine.sandbox;

import akka.actor.Cancellable;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.OutgoingConnectionBuilder;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.Uri;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.sandbox.BotApiParams.Failure;
import io.botengine.sandbox.BotApiParams.FilePart;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * <p>All state lives in plain thread-safe structures; HTTP handlers never block (long polls are
 * futures completed on arrival of an update or by the actor system's scheduler). Only {@link
 * #start}, {@link #awaitSent} and {@link #close} block their caller, and are meant for test and
 * main threads.
 */
public final class BotApiEmulator implements AutoCloseable {
  private final Map<Long, String> languages = new ConcurrentHashMap<>();
  private static final Logger log = LoggerFactory.getLogger(BotApiEmulator.class);
  /** The name {@link #slowNext} knows file downloads by. */
  public static final String FILE_DOWNLOAD = "file download";

  private final java.util.concurrent.atomic.AtomicInteger downloadsReceived =
      new java.util.concurrent.atomic.AtomicInteger();

  private static final long MAX_REQUEST_BYTES = 64L * 1024 * 1024;
  private static final long UPLOAD_LIMIT = 50L * 1024 * 1024;
  private static final long DOWNLOAD_LIMIT = 20L * 1024 * 1024;
  private static final int MAX_TEXT = 4096;
  private static final int MAX_CAPTION = 1024;
  private static final int MAX_WEBHOOK_ATTEMPTS = 100;
  private static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration WEBHOOK_MAX_BACKOFF = Duration.ofSeconds(1);
  private static final long DEFAULT_BOT_ID = 1_000_000L;
  private static final String BOT_NAME = "Emulated Bot";
  private static final String BOT_USERNAME = "emulated_bot";
  private static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";
  private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9_-]{1,256}");
  private static final Pattern COMMAND = Pattern.compile("[a-z0-9_]{1,32}");
  private static final Pattern LEADING_COMMAND = Pattern.compile("^/[A-Za-z0-9_]{1,32}(@\\w+)?");
  private static final Set<String> CHAT_ACTIONS =
      Set.of(
          "typing",
          "upload_photo",
          "record_video",
          "upload_video",
          "record_voice",
          "upload_voice",
          "upload_document",
          "choose_sticker",
          "find_location",
          "record_video_note",
          "upload_video_note");
  private static final Map<String, String> METHODS =
      List.of(
              "getMe",
              "getUpdates",
              "setWebhook",
              "deleteWebhook",
              "getWebhookInfo",
              "sendMessage",
              "sendDocument",
              "getFile",
              "editMessageText",
              "deleteMessage",
              "sendChatAction",
              "setMyCommands",
              "getMyCommands",
              "deleteMyCommands")
          .stream()
          .collect(Collectors.toUnmodifiableMap(m -> m.toLowerCase(Locale.ROOT), m -> m));

  /**
   * One successful bot call that changed a chat. {@code method} is sendMessage, sendDocument,
   * editMessageText, deleteMessage or sendChatAction; {@code messageId} is the message sent, edited
   * or deleted (0 for sendChatAction, whose action is in {@code text}); {@code text} and {@code
   * caption} are as the bot sent them, markup included.
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
      Instant at) {
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
      return s.append(')').toString();
    }

    private static String abbreviate(String s) {
      String quoted = '"' + s.replace("\n", "\\n") + '"';
      return quoted.length() > 120 ? quoted.substring(0, 117) + "...\"" : quoted;
    }
  }

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

  private static final class ChatMessage {
    final boolean fromBot;
    String text;
    String parseMode;
    String replyMarkup;
    boolean deleted;

    ChatMessage(boolean fromBot, String text, String parseMode, String replyMarkup) {
      this.fromBot = fromBot;
      this.text = text;
      this.parseMode = parseMode;
      this.replyMarkup = replyMarkup;
    }
  }

  private record StoredFile(
      String fileId,
      String uniqueId,
      String path,
      String name,
      String mimeType,
      byte[] bytes,
      long reportedSize) {}

  private record Wake(Waiter waiter, HttpResponse response) {}

  private final ActorSystem<?> system;
  private final String token;
  private final long botId;
  private final ObjectMapper mapper = new ObjectMapper();
  private final List<Consumer<Sent>> listeners = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();
  private volatile ServerBinding binding;

  private long nextUpdateId = 1;
  private long fileCounter;
  private long confirmedOffset;
  private boolean closed;
  private final Map<Long, ObjectNode> updates = new HashMap<>();
  private final List<Pending> pending = new ArrayList<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private final Map<Long, Long> lastMessageIds = new HashMap<>();
  private final Map<Long, Map<Long, ChatMessage>> chats = new HashMap<>();
  private final Map<String, StoredFile> filesById = new HashMap<>();
  private final Map<String, StoredFile> filesByPath = new HashMap<>();
  private final List<Sent> sent = new ArrayList<>();
  private final List<String> callLog = new ArrayList<>();
  private final Map<String, Deque<Failure>> faults = new HashMap<>();
  private final Map<String, Deque<Duration>> delays = new HashMap<>();
  private List<Map<String, Object>> myCommands = List.of();
  private String webhookUrl;
  private String webhookSecret;
  private boolean webhookBusy;
  private int webhookAttempts;
  private String webhookLastError;

  private BotApiEmulator(ActorSystem<?> system, String token) {
    this.system = system;
    this.token = Objects.requireNonNull(token, "token");
    this.botId = botIdOf(token);
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

  /** Injects a text message from a user in their last language ("en" at first); returns its update_id. */
  public long sendText(long userId, String text) {
    return sendText(userId, text, languageOf(userId));
  }

  /** Injects a text message from a user with the given language_code; returns its update_id. */
  public long sendText(long userId, String text, String languageCode) {
    return inject(
        userId,
        languageCode,
        message -> {
          message.put("text", text);
          Matcher command = LEADING_COMMAND.matcher(text);
          if (command.find()) {
            ObjectNode entity = message.putArray("entities").addObject();
            entity.put("offset", 0);
            entity.put("length", command.end());
            entity.put("type", "bot_command");
          }
        });
  }

  /** Injects a document from a user, its file_size the content's length; returns its update_id. */
  public long sendDocument(long userId, String fileName, String mimeType, byte[] content) {
    return sendDocument(userId, fileName, mimeType, content, content.length);
  }

  /** Injects a document whose file_size (in the update and in getFile) is reportedSize. */
  public long sendDocument(
      long userId, String fileName, String mimeType, byte[] content, long reportedSize) {
    byte[] copy = content.clone();
    return inject(
        userId,
        languageOf(userId),
        message -> {
          StoredFile file = storeFile(fileName, mimeType, copy, reportedSize, "documents");
          message.set("document", documentJson(file));
        });
  }

  /** Injects a photo (neither text nor document) from a user; returns its update_id. */
  public long sendPhoto(long userId) {
    return inject(
        userId,
        languageOf(userId),
        message -> {
          ArrayNode photo = message.putArray("photo");
          int[][] sizes = {{90, 67, 1_412}, {320, 240, 21_560}, {800, 600, 82_904}};
          for (int[] size : sizes) {
            StoredFile file = storeFile(null, "image/jpeg", new byte[0], size[2], "photos");
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

  /** Every successful bot call that changed a chat, in arrival order. */
  public List<Sent> sent() {
    synchronized (lock) {
      return List.copyOf(sent);
    }
  }

  /** The {@link #sent()} entries of one chat. */
  public List<Sent> sentTo(long chatId) {
    synchronized (lock) {
      return sentToLocked(chatId);
    }
  }

  /** Blocks until chatId has count Sent entries and returns them; AssertionError on timeout. */
  public List<Sent> awaitSent(long chatId, int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (true) {
        List<Sent> got = sentToLocked(chatId);
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

  /** Calls the listener for each new Sent, on HTTP handler threads: it must not block. */
  public void onSent(Consumer<Sent> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Method names of every call received with the right token, in order. */
  public List<String> callLog() {
    synchronized (lock) {
      return List.copyOf(callLog);
    }
  }

  /** The webhook URL set by the bot, if any. */
  public Optional<String> webhookUrl() {
    synchronized (lock) {
      return Optional.ofNullable(webhookUrl);
    }
  }

  /** The highest offset the bot confirmed via getUpdates (0 if none). */
  public long confirmedOffset() {
    synchronized (lock) {
      return confirmedOffset;
    }
  }

  /** The commands of the last setMyCommands call (empty after deleteMyCommands). */
  public List<Map<String, Object>> myCommands() {
    synchronized (lock) {
      return myCommands;
    }
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

  /** Answers pending long polls, stops webhook delivery and unbinds; blocks up to a few seconds. */
  @Override
  public void close() {
    List<Waiter> open;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      open = new ArrayList<>(waiters);
      waiters.clear();
    }
    for (Waiter waiter : open) {
      waiter.timer.cancel();
      waiter.response.complete(ok(mapper.createArrayNode()));
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
      return later(done(download(path.substring("/file/bot".length()))),
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
      delay = nextDelay(method);
    }
    log.debug("Bot API call {}", method);
    if (fault != null || !METHODS.containsValue(method)) {
      request.discardEntityBytes(system);
      return done(fault != null ? failure(fault) : failure(404, "Not Found", null));
    }
    CompletionStage<HttpResponse> answer =
        BotApiParams.read(request, system, system.executionContext(), mapper, MAX_REQUEST_BYTES)
            // Runs where the parameters were read: on this thread for a body already in memory
            // (no hop to another task), on the executor otherwise.
            .thenCompose(params -> call(method, params))
            .exceptionally(this::failure);
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
    switch (method) {
      case "getUpdates":
        return getUpdates(p);
      case "getMe":
        return done(ok(botUser()));
      case "setWebhook":
        return done(setWebhook(p));
      case "deleteWebhook":
        return done(deleteWebhook(p));
      case "getWebhookInfo":
        return done(webhookInfo());
      case "sendMessage":
        return done(sendMessage(p));
      case "sendDocument":
        return done(sendDocument(p));
      case "getFile":
        return done(getFile(p));
      case "editMessageText":
        return done(editMessageText(p));
      case "deleteMessage":
        return done(deleteMessage(p));
      case "sendChatAction":
        return done(sendChatAction(p));
      case "setMyCommands":
        return done(setMyCommands(p));
      case "getMyCommands":
        return done(getMyCommands());
      case "deleteMyCommands":
        return done(deleteMyCommands());
      default:
        return done(failure(404, "Not Found", null));
    }
  }

  // ---------------------------------------------------------------- updates

  private CompletionStage<HttpResponse> getUpdates(BotApiParams p) {
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
      waiter.response.complete(ok(mapper.createArrayNode()));
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
    ArrayNode batch = mapper.createArrayNode();
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

  /** The language_code a user's messages carry: the last one given, as in Telegram. */
  private String languageOf(long userId) {
    return languages.getOrDefault(userId, "en");
  }

  private long inject(long userId, String languageCode, Consumer<ObjectNode> content) {
    if (languageCode != null) {
      languages.put(userId, languageCode);
    }
    Wake wake;
    long updateId;
    synchronized (lock) {
      long messageId = nextMessageId(userId);
      ObjectNode message = mapper.createObjectNode();
      message.put("message_id", messageId);
      ObjectNode from = message.putObject("from");
      from.put("id", userId);
      from.put("is_bot", false);
      from.put("first_name", "User " + userId);
      if (languageCode != null) {
        from.put("language_code", languageCode);
      }
      message.set("chat", privateChat(userId));
      message.put("date", Instant.now().getEpochSecond());
      content.accept(message);
      updateId = nextUpdateId++;
      ObjectNode update = mapper.createObjectNode();
      update.put("update_id", updateId);
      update.set("message", message);
      updates.put(updateId, update);
      String text = message.hasNonNull("text") ? message.get("text").asText() : null;
      chats
          .computeIfAbsent(userId, k -> new HashMap<>())
          .put(messageId, new ChatMessage(false, text, null, null));
      pending.add(new Pending(updateId, update, false));
      wake = wakeWaiter();
    }
    deliver(wake);
    return updateId;
  }

  // ---------------------------------------------------------------- webhook

  private HttpResponse setWebhook(BotApiParams p) {
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

  private HttpResponse deleteWebhook(BotApiParams p) {
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

  private HttpResponse webhookInfo() {
    ObjectNode info = mapper.createObjectNode();
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
          long millis =
              Math.min(WEBHOOK_MAX_BACKOFF.toMillis(), 50L << Math.min(webhookAttempts - 1, 10));
          scheduleRetry(Duration.ofMillis(millis));
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

  // ---------------------------------------------------------------- messages

  private HttpResponse sendMessage(BotApiParams p) {
    long chatId = chatId(p);
    String text = p.text("text");
    String parseMode = p.text("parse_mode");
    String plain = messageText(text, parseMode);
    ObjectNode message;
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      long id = nextMessageId(chatId);
      chats.get(chatId).put(id, new ChatMessage(true, text, parseMode, p.text("reply_markup")));
      message = botMessage(chatId, id);
      message.put("text", plain);
      s = new Sent(id, "sendMessage", chatId, text, parseMode, null, null, null, Instant.now());
      record(s);
    }
    announce(s);
    return ok(message);
  }

  private HttpResponse sendDocument(BotApiParams p) {
    long chatId = chatId(p);
    String caption = p.text("caption");
    String parseMode = p.text("parse_mode");
    String plainCaption = caption == null ? null : parse(caption, parseMode);
    if (plainCaption != null
        && plainCaption.codePointCount(0, plainCaption.length()) > MAX_CAPTION) {
      throw Failure.badRequest("message caption is too long");
    }
    FilePart part = p.file("document");
    String fileName;
    String mimeType;
    byte[] bytes;
    if (part != null) {
      fileName = part.fileName();
      mimeType = mimeTypeOf(fileName);
      bytes = part.bytes();
    } else {
      String reference = p.text("document");
      if (reference == null || reference.isBlank()) {
        throw Failure.badRequest("there is no document in the request");
      }
      StoredFile known;
      synchronized (lock) {
        known = filesById.get(reference);
      }
      if (known == null) {
        throw Failure.badRequest("wrong file identifier/HTTP URL specified");
      }
      fileName = known.name();
      mimeType = known.mimeType();
      bytes = known.bytes();
    }
    if (bytes.length == 0) {
      throw Failure.badRequest("file must be non-empty");
    }
    if (bytes.length > UPLOAD_LIMIT) {
      throw new Failure(413, "Request Entity Too Large", null);
    }
    ObjectNode message;
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      StoredFile file = storeFile(fileName, mimeType, bytes, bytes.length, "documents");
      long id = nextMessageId(chatId);
      chats.get(chatId).put(id, new ChatMessage(true, null, null, p.text("reply_markup")));
      message = botMessage(chatId, id);
      message.set("document", documentJson(file));
      if (plainCaption != null && !plainCaption.isEmpty()) {
        message.put("caption", plainCaption);
      }
      s =
          new Sent(
              id, "sendDocument", chatId, null, parseMode, fileName, bytes, caption, Instant.now());
      record(s);
    }
    announce(s);
    return ok(message);
  }

  private HttpResponse editMessageText(BotApiParams p) {
    if (p.text("inline_message_id") != null) {
      throw Failure.badRequest("MESSAGE_ID_INVALID");
    }
    long chatId = chatId(p);
    long messageId = p.longValue("message_id", 0);
    String text = p.text("text");
    String parseMode = p.text("parse_mode");
    String replyMarkup = p.text("reply_markup");
    String plain = messageText(text, parseMode);
    ObjectNode message;
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      ChatMessage current = chats.get(chatId).get(messageId);
      if (current == null || current.deleted) {
        throw Failure.badRequest("message to edit not found");
      }
      if (!current.fromBot) {
        throw Failure.badRequest("message can't be edited");
      }
      if (current.text == null) {
        throw Failure.badRequest("there is no text in the message to edit");
      }
      if (current.text.equals(text)
          && Objects.equals(current.parseMode, parseMode)
          && Objects.equals(current.replyMarkup, replyMarkup)) {
        throw Failure.badRequest(
            "message is not modified: specified new message content and reply markup are"
                + " exactly the same as a current content and reply markup of the message");
      }
      current.text = text;
      current.parseMode = parseMode;
      current.replyMarkup = replyMarkup;
      message = botMessage(chatId, messageId);
      message.put("edit_date", Instant.now().getEpochSecond());
      message.put("text", plain);
      s =
          new Sent(
              messageId,
              "editMessageText",
              chatId,
              text,
              parseMode,
              null,
              null,
              null,
              Instant.now());
      record(s);
    }
    announce(s);
    return ok(message);
  }

  private HttpResponse deleteMessage(BotApiParams p) {
    long chatId = chatId(p);
    long messageId = p.longValue("message_id", 0);
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      ChatMessage current = chats.get(chatId).get(messageId);
      if (current == null || current.deleted) {
        throw Failure.badRequest("message to delete not found");
      }
      current.deleted = true;
      s = new Sent(messageId, "deleteMessage", chatId, null, null, null, null, null, Instant.now());
      record(s);
    }
    announce(s);
    return ok(BooleanNode.TRUE);
  }

  private HttpResponse sendChatAction(BotApiParams p) {
    long chatId = chatId(p);
    String action = p.text("action");
    if (action == null || !CHAT_ACTIONS.contains(action)) {
      throw Failure.badRequest("wrong parameter action in request");
    }
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      s = new Sent(0, "sendChatAction", chatId, action, null, null, null, null, Instant.now());
      record(s);
    }
    announce(s);
    return ok(BooleanNode.TRUE);
  }

  // ---------------------------------------------------------------- files

  private HttpResponse getFile(BotApiParams p) {
    String fileId = p.text("file_id");
    StoredFile file;
    synchronized (lock) {
      file = fileId == null ? null : filesById.get(fileId);
    }
    if (file == null) {
      throw Failure.badRequest("invalid file_id");
    }
    if (file.reportedSize() > DOWNLOAD_LIMIT) {
      throw Failure.badRequest("file is too big");
    }
    ObjectNode result = mapper.createObjectNode();
    result.put("file_id", file.fileId());
    result.put("file_unique_id", file.uniqueId());
    result.put("file_size", file.reportedSize());
    result.put("file_path", file.path());
    return ok(result);
  }

  private HttpResponse download(String tokenAndPath) {
    int slash = tokenAndPath.indexOf('/');
    if (slash < 0 || !tokenAndPath.substring(0, slash).equals(token)) {
      return failure(401, "Unauthorized", null);
    }
    StoredFile file;
    synchronized (lock) {
      file = filesByPath.get(tokenAndPath.substring(slash + 1));
    }
    if (file == null) {
      return failure(404, "Not Found", null);
    }
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_OCTET_STREAM, file.bytes());
  }

  /** Holds lock (or is called under it by inject). */
  private StoredFile storeFile(
      String name, String mimeType, byte[] bytes, long reportedSize, String folder) {
    synchronized (lock) {
      long n = ++fileCounter;
      String prefix = folder.equals("photos") ? "AgACAgIAAxkBAAI" : "BQACAgIAAxkBAAI";
      String extension = "";
      if (name != null && name.lastIndexOf('.') > 0) {
        extension = name.substring(name.lastIndexOf('.')).toLowerCase(Locale.ROOT);
      } else if (folder.equals("photos")) {
        extension = ".jpg";
      }
      StoredFile file =
          new StoredFile(
              String.format("%s%08dZmlsZQ", prefix, n),
              String.format("AgAD%06d", n),
              folder + "/file_" + n + extension,
              name,
              mimeType,
              bytes,
              reportedSize);
      filesById.put(file.fileId(), file);
      filesByPath.put(file.path(), file);
      return file;
    }
  }

  private ObjectNode documentJson(StoredFile file) {
    ObjectNode document = mapper.createObjectNode();
    if (file.name() != null) {
      document.put("file_name", file.name());
    }
    if (file.mimeType() != null) {
      document.put("mime_type", file.mimeType());
    }
    document.put("file_id", file.fileId());
    document.put("file_unique_id", file.uniqueId());
    document.put("file_size", file.reportedSize());
    return document;
  }

  private static String mimeTypeOf(String fileName) {
    String lower = fileName == null ? "" : fileName.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".pdf")) {
      return "application/pdf";
    } else if (lower.endsWith(".txt")) {
      return "text/plain";
    } else if (lower.endsWith(".md")) {
      return "text/markdown";
    } else if (lower.endsWith(".json")) {
      return "application/json";
    } else if (lower.endsWith(".html") || lower.endsWith(".htm")) {
      return "text/html";
    } else if (lower.endsWith(".docx")) {
      return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    } else if (lower.endsWith(".doc")) {
      return "application/msword";
    }
    return "application/octet-stream";
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
        mapper.convertValue(commands, new TypeReference<List<Map<String, Object>>>() {});
    synchronized (lock) {
      myCommands =
          list.stream().map(c -> Collections.unmodifiableMap(new LinkedHashMap<>(c))).toList();
    }
    return ok(BooleanNode.TRUE);
  }

  private HttpResponse getMyCommands() {
    synchronized (lock) {
      return ok(mapper.valueToTree(myCommands));
    }
  }

  private HttpResponse deleteMyCommands() {
    synchronized (lock) {
      myCommands = List.of();
    }
    return ok(BooleanNode.TRUE);
  }

  // ---------------------------------------------------------------- helpers

  private static long botIdOf(String token) {
    int colon = token.indexOf(':');
    try {
      return colon > 0 ? Long.parseLong(token.substring(0, colon)) : DEFAULT_BOT_ID;
    } catch (NumberFormatException e) {
      return DEFAULT_BOT_ID;
    }
  }

  private static String canonical(String method) {
    return METHODS.getOrDefault(method.toLowerCase(Locale.ROOT), method);
  }

  private ObjectNode botUser() {
    ObjectNode user = mapper.createObjectNode();
    user.put("id", botId);
    user.put("is_bot", true);
    user.put("first_name", BOT_NAME);
    user.put("username", BOT_USERNAME);
    user.put("can_join_groups", true);
    user.put("can_read_all_group_messages", false);
    user.put("supports_inline_queries", false);
    user.put("can_connect_to_business", false);
    user.put("has_main_web_app", false);
    return user;
  }

  private ObjectNode privateChat(long chatId) {
    ObjectNode chat = mapper.createObjectNode();
    chat.put("id", chatId);
    chat.put("first_name", "User " + chatId);
    chat.put("type", "private");
    return chat;
  }

  private ObjectNode botMessage(long chatId, long messageId) {
    ObjectNode message = mapper.createObjectNode();
    message.put("message_id", messageId);
    ObjectNode from = message.putObject("from");
    from.put("id", botId);
    from.put("is_bot", true);
    from.put("first_name", BOT_NAME);
    from.put("username", BOT_USERNAME);
    message.set("chat", privateChat(chatId));
    message.put("date", Instant.now().getEpochSecond());
    return message;
  }

  private static long chatId(BotApiParams p) {
    String raw = p.text("chat_id");
    if (raw == null || raw.isBlank()) {
      throw Failure.badRequest("chat_id is empty");
    }
    try {
      return Long.parseLong(raw.trim());
    } catch (NumberFormatException e) {
      throw Failure.badRequest("chat not found");
    }
  }

  /** Holds lock. A chat exists once its user wrote to the bot, as in Telegram. */
  private void requireChat(long chatId) {
    if (!chats.containsKey(chatId)) {
      throw Failure.badRequest("chat not found");
    }
  }

  /** Holds lock. Private chats number user and bot messages in one sequence. */
  private long nextMessageId(long chatId) {
    return lastMessageIds.merge(chatId, 1L, Long::sum);
  }

  private static String parse(String text, String parseMode) {
    try {
      return BotApiMarkup.plainText(text, parseMode);
    } catch (BotApiMarkup.ParseError e) {
      throw new Failure(400, e.getMessage(), null);
    }
  }

  private static String messageText(String text, String parseMode) {
    String plain = parse(text == null ? "" : text, parseMode);
    if (plain.isBlank()) {
      throw Failure.badRequest("message text is empty");
    }
    if (plain.codePointCount(0, plain.length()) > MAX_TEXT) {
      throw Failure.badRequest("message is too long");
    }
    return plain;
  }

  /** Holds lock. */
  private List<Sent> sentToLocked(long chatId) {
    return sent.stream().filter(s -> s.chatId() == chatId).toList();
  }

  /** Holds lock. */
  private void record(Sent s) {
    sent.add(s);
    lock.notifyAll();
  }

  private void announce(Sent s) {
    for (Consumer<Sent> listener : listeners) {
      try {
        listener.accept(s);
      } catch (RuntimeException e) {
        log.warn("Sent listener failed", e);
      }
    }
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  private byte[] json(JsonNode node) {
    try {
      return mapper.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private HttpResponse ok(JsonNode result) {
    return ok(result, null);
  }

  private HttpResponse ok(JsonNode result, String description) {
    ObjectNode body = mapper.createObjectNode();
    body.put("ok", true);
    body.set("result", result);
    if (description != null) {
      body.put("description", description);
    }
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json(body));
  }

  private HttpResponse failure(Failure f) {
    return failure(f.code, f.getMessage(), f.retryAfter);
  }

  private HttpResponse failure(int code, String description, Integer retryAfter) {
    ObjectNode body = mapper.createObjectNode();
    body.put("ok", false);
    body.put("error_code", code);
    body.put("description", description);
    if (retryAfter != null) {
      body.putObject("parameters").put("retry_after", retryAfter);
    }
    StatusCode status =
        StatusCodes.lookup(code).orElseGet(() -> StatusCodes.custom(code, "Error", description));
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(ContentTypes.APPLICATION_JSON, json(body));
  }

  private HttpResponse failure(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof Failure f) {
        return failure(f);
      }
      if (t instanceof EntityStreamSizeException) {
        return failure(413, "Request Entity Too Large", null);
      }
    }
    Throwable cause = error instanceof CompletionException ? error.getCause() : error;
    log.warn("Bot API emulator could not handle a call", cause);
    return failure(400, "Bad Request: " + cause.getMessage(), null);
  }
}
