package io.botengine.sandbox;

import akka.Done;
import akka.NotUsed;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.http.javadsl.marshalling.sse.EventStreamMarshalling;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.CacheControl;
import akka.http.javadsl.model.headers.CacheDirectives;
import akka.http.javadsl.model.headers.ContentDisposition;
import akka.http.javadsl.model.headers.ContentDispositionTypes;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.pattern.StatusReply;
import akka.stream.KillSwitches;
import akka.stream.Materializer;
import akka.stream.SharedKillSwitch;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Json;
import io.botengine.WebEvents;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.user.UserEntity;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * The sandbox chat page and its API, served on the engine's HTTP port: the page at {@code /}, its
 * assets under {@code /sandbox/}, and under {@code /sandbox/api/users/{id}/} what the page does as
 * that user: send a text or a file (through the Bot API emulator, as if from Telegram), pay an
 * invoice the bot offered in Telegram Stars (the emulator plays Telegram's part), follow the chat
 * live (SSE, resumable with {@code Last-Event-ID}), download the bot's documents, read and change
 * the account (through the user's sharded actor), and choose the Runner scenario of the user's
 * next jobs. Every call that changes something must come from the page itself ({@link
 * SameOrigin}), 403 otherwise. Nothing here blocks: the emulators' calls are in-memory and the user
 * actor is asked.
 */
final class SandboxRoutes extends AllDirectives {
  /** The largest file the page may upload: above the bot's 1 MB, so its refusal can be tried. */
  static final long MAX_UPLOAD = 5L * 1024 * 1024;

  static final int MAX_TEXT = 4096;
  static final Duration KEEP_ALIVE = Duration.ofSeconds(15);
  private static final Duration PACE = Duration.ofMillis(1200);
  private static final long MAX_CREDIT = 1_000_000;
  private static final long READ_TIMEOUT_MILLIS = 30_000;
  private static final String USER_ID = "[1-9][0-9]{0,14}";

  /** The Runner scenarios the page offers, by the name the page sends. */
  enum Scenario {
    NORMAL("normal", Sandbox.DEFAULT_SCENARIO),
    ERROR("error", RunnerScenario.ERROR_MIDSTREAM.withPacing(PACE)),
    SLOW("slow", RunnerScenario.SLOW),
    STREAMED("streamed", RunnerScenario.STREAMED),
    DROP_AND_RESUME("drop-and-resume", RunnerScenario.DROP_AND_RESUME.withPacing(PACE));

    final String key;
    final RunnerScenario scenario;

    Scenario(String key, RunnerScenario scenario) {
      this.key = key;
      this.scenario = scenario;
    }

    static Optional<Scenario> byKey(String key) {
      return Arrays.stream(values()).filter(s -> s.key.equals(key)).findFirst();
    }
  }

  private final ActorSystem<?> system;
  private final BotApiEmulator bot;
  private final RunnerEmulator runner;
  private final ChatFeed feed;
  private final Duration askTimeout;
  private final long cvCost;
  private final LongFunction<String> initData;
  private final Map<Long, Scenario> scenarios = new ConcurrentHashMap<>();
  private final SharedKillSwitch feeds = KillSwitches.shared("sandbox-chat-feeds");

  SandboxRoutes(
      ActorSystem<?> system,
      BotApiEmulator bot,
      RunnerEmulator runner,
      ChatFeed feed,
      Duration askTimeout,
      long cvCost,
      LongFunction<String> initData) {
    this.system = system;
    this.bot = bot;
    this.runner = runner;
    this.feed = feed;
    this.askTimeout = askTimeout;
    this.cvCost = cvCost;
    this.initData = initData;
    WebEvents web = WebEvents.get(system);
    feed.forwardTo((chat, entry) -> web.publish(chat, "chat", entry.json()));
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "end-sandbox-chat-feeds",
            () -> {
              feeds.shutdown();
              return CompletableFuture.completedFuture(Done.getInstance());
            });
  }

  Route route() {
    return concat(
        pathSingleSlash(() -> get(this::page)),
        pathPrefix("sandbox", () -> concat(pathPrefix("api", this::api), get(this::assets))));
  }

  private Route page() {
    return noCache(() -> getFromResource("sandbox/index.html", ContentTypes.TEXT_HTML_UTF8));
  }

  private Route assets() {
    return noCache(() -> getFromResourceDirectory("sandbox"));
  }

  private Route api() {
    return extractRequest(
        request ->
            SameOrigin.refusal(request)
                .map(reason -> error(StatusCodes.FORBIDDEN, reason))
                .orElseGet(
                    () -> pathPrefix("users", () -> pathPrefix(PathMatchers.segment(), this::user))));
  }

  private Route user(String id) {
    if (!id.matches(USER_ID)) {
      return error(
          StatusCodes.BAD_REQUEST, "user id must be a positive integer of at most 15 digits");
    }
    long user = Long.parseLong(id);
    return concat(
        path("events", () -> get(() -> events(user))),
        path("init-data", () -> get(() -> json(StatusCodes.OK,
            Map.of("initData", initData.apply(user))))),
        path("history", () -> get(() -> parameterOptional("after", after -> history(user, after)))),
        path("messages", () -> post(() -> body(b -> message(user, b)))),
        path("documents", () -> post(() -> document(user))),
        path(
            PathMatchers.segment("files").slash(PathMatchers.longSegment()),
            m -> get(() -> file(user, m))),
        path("account", () -> get(() -> account(user, UserEntity.GetSummary::new))),
        path("credit", () -> post(() -> body(b -> credit(user, b)))),
        path("block", () -> post(() -> account(user, r -> new UserEntity.SetBlocked(true, r)))),
        path("unblock", () -> post(() -> account(user, r -> new UserEntity.SetBlocked(false, r)))),
        path("scenario", () -> post(() -> body(b -> scenario(user, b)))),
        path("pay", () -> post(() -> body(b -> pay(user, b)))));
  }

  // ---------------------------------------------------------------- chat

  private Route events(long user) {
    return optionalHeaderValueByName(
        "Last-Event-ID",
        last -> {
          String epoch = feed.epoch();
          long after = resumeAfter(last, epoch);
          ObjectNode hello =
              Json.MAPPER.createObjectNode().put("user", user).put("epoch", epoch).put("after", after);
          Source<ServerSentEvent, NotUsed> events =
              Source.single(
                      ServerSentEvent.create(
                          hello.toString(),
                          Optional.of("hello"),
                          Optional.empty(),
                          OptionalInt.of(1000)))
                  .concat(
                      feed.subscribe(user, after, Materializer.matFromSystem(system))
                          .map(
                              e -> ServerSentEvent.create(e.json(), "chat", epoch + "." + e.seq())))
                  .keepAlive(KEEP_ALIVE, ServerSentEvent::heartbeat)
                  .via(feeds.flow())
                  .mapMaterializedValue(m -> NotUsed.getInstance());
          return completeOK(events, EventStreamMarshalling.toEventStream());
        });
  }

  /**
   * The chat's entries after {@code after} (0: all kept), with the feed's epoch: the chat page
   * loads them once its web event stream is live, and takes later ones from the stream.
   */
  private Route history(long user, Optional<String> after) {
    long from;
    try {
      from = Math.max(0, after.map(Long::parseLong).orElse(0L));
    } catch (NumberFormatException e) {
      return error(StatusCodes.BAD_REQUEST, "after must be a number");
    }
    ObjectNode body = Json.MAPPER.createObjectNode().put("epoch", feed.epoch());
    var entries = body.putArray("entries");
    for (ChatFeed.Entry e : feed.history(user, from)) {
      try {
        entries.add(Json.MAPPER.readTree(e.json()));
      } catch (java.io.IOException impossible) {
        throw new IllegalStateException(impossible);
      }
    }
    return complete(StatusCodes.OK, HttpEntities.create(ContentTypes.APPLICATION_JSON,
        body.toString()));
  }

  /** The sequence number a reconnecting page saw last; 0 (everything) after a restart. */
  static long resumeAfter(Optional<String> lastEventId, String epoch) {
    String prefix = epoch + ".";
    if (lastEventId.isEmpty() || !lastEventId.get().startsWith(prefix)) {
      return 0;
    }
    try {
      return Math.max(0, Long.parseLong(lastEventId.get().substring(prefix.length())));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private Route message(long user, JsonNode body) {
    String text = text(body, "text");
    if (text == null || text.isBlank()) {
      return error(StatusCodes.BAD_REQUEST, "text is required");
    }
    if (text.codePointCount(0, text.length()) > MAX_TEXT) {
      return error(StatusCodes.BAD_REQUEST, "text is longer than " + MAX_TEXT + " characters");
    }
    feed.userText(user, text);
    bot.sendText(user, text, language(body));
    return json(StatusCodes.OK, Map.of("ok", true));
  }

  private Route document(long user) {
    return parameterOptional(
        "name",
        name -> extractRequestEntity(entity -> upload(user, fileName(name.orElse("")), entity)));
  }

  private Route upload(long user, String fileName, HttpEntity entity) {
    if (entity.getContentLengthOption().orElse(0) > MAX_UPLOAD) {
      return tooLarge();
    }
    CompletionStage<HttpEntity.Strict> strict =
        entity.withSizeLimit(MAX_UPLOAD).toStrict(READ_TIMEOUT_MILLIS, system);
    return onComplete(
        strict,
        read -> {
          if (read.isFailure()) {
            return tooLarge(read.failed().get())
                ? tooLarge()
                : error(StatusCodes.BAD_REQUEST, "the file could not be read");
          }
          byte[] bytes = read.get().getData().toArray();
          feed.userDocument(user, fileName, bytes.length);
          bot.sendDocument(user, fileName, entity.getContentType().mediaType().toString(), bytes);
          return json(StatusCodes.OK, Map.of("ok", true));
        });
  }

  private static boolean tooLarge(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof EntityStreamSizeException) {
        return true;
      }
    }
    return false;
  }

  private Route tooLarge() {
    return error(
        StatusCodes.CONTENT_TOO_LARGE,
        "the file is larger than the sandbox accepts ("
            + MAX_UPLOAD / (1024 * 1024)
            + " MB); the bot itself refuses files over 1 MB");
  }

  private Route file(long user, long messageId) {
    Optional<Sent> document =
        bot.sentTo(user).stream()
            .filter(s -> s.messageId() == messageId && "sendDocument".equals(s.method()))
            .findFirst();
    if (document.isEmpty()) {
      return error(StatusCodes.NOT_FOUND, "no document " + messageId + " in this chat");
    }
    Sent s = document.get();
    String name = s.fileName() == null ? "document" : s.fileName();
    return complete(
        HttpResponse.create()
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, s.document()))
            .addHeader(
                ContentDisposition.create(
                    ContentDispositionTypes.ATTACHMENT, Map.of("filename", name))));
  }

  // ---------------------------------------------------------------- payments

  /**
   * The user pays the last invoice with this payload the bot offered them, through the Bot API
   * emulator as Telegram would: answers once the bot answered the pre-checkout (at most 10 s).
   */
  private Route pay(long user, JsonNode body) {
    String payload = text(body, "payload");
    if (payload == null || payload.isEmpty() || payload.length() > 128) {
      return error(StatusCodes.BAD_REQUEST, "payload must be the invoice's, 1-128 characters");
    }
    CompletionStage<BotApiEmulator.PaymentResult> paying;
    try {
      paying = bot.payAsync(user, payload);
    } catch (IllegalArgumentException e) {
      return error(StatusCodes.NOT_FOUND, "the bot offered this user no such invoice");
    }
    return onComplete(
        paying,
        result -> {
          if (result.isFailure()) {
            return error(StatusCodes.SERVICE_UNAVAILABLE, "the payment could not be made");
          }
          BotApiEmulator.PaymentResult r = result.get();
          ObjectNode view =
              Json.MAPPER.createObjectNode()
                  .put("ok", r.ok())
                  .put("answered", r.answered())
                  .put("error_message", r.errorMessage())
                  .put("charge_id", r.chargeId());
          return json(StatusCodes.OK, view);
        });
  }

  // ---------------------------------------------------------------- account

  private Route credit(long user, JsonNode body) {
    JsonNode amount = body.get("amount");
    if (amount == null
        || !amount.isIntegralNumber()
        || amount.asLong() <= 0
        || amount.asLong() > MAX_CREDIT) {
      return error(
          StatusCodes.BAD_REQUEST, "amount must be a whole number from 1 to " + MAX_CREDIT);
    }
    String key = text(body, "idempotency_key");
    if (key == null || !key.matches("sandbox-[A-Za-z0-9-]{8,64}")) {
      return error(
          StatusCodes.BAD_REQUEST, "idempotency_key must be sandbox-<random>, fresh per click");
    }
    return account(user, r -> new UserEntity.Credit(amount.asLong(), "sandbox credit", key, r));
  }

  private Route scenario(long user, JsonNode body) {
    Optional<Scenario> chosen = Scenario.byKey(String.valueOf(text(body, "scenario")));
    if (chosen.isEmpty()) {
      return error(
          StatusCodes.BAD_REQUEST, "scenario must be normal, error, slow, streamed or drop-and-resume");
    }
    scenarios.put(user, chosen.get());
    runner.scenarioFor(user, chosen.get().scenario);
    return json(StatusCodes.OK, Map.of("scenario", chosen.get().key));
  }

  private Route account(
      long user, Function<ActorRef<StatusReply<UserEntity.Summary>>, UserEntity.Command> command) {
    CompletionStage<UserEntity.Summary> reply =
        ClusterSharding.get(system)
            .entityRefFor(UserEntity.ENTITY_KEY, Long.toString(user))
            .askWithStatus(command::apply, askTimeout);
    return onComplete(
        reply,
        result -> {
          if (result.isFailure()) {
            Throwable e = result.failed().get();
            return e instanceof StatusReply.ErrorMessage
                ? error(StatusCodes.BAD_REQUEST, e.getMessage())
                : error(StatusCodes.SERVICE_UNAVAILABLE, "the user actor did not answer in time");
          }
          ObjectNode view = Json.MAPPER.valueToTree(result.get());
          view.put("cv_cost", cvCost);
          view.put("scenario", scenarios.getOrDefault(user, Scenario.NORMAL).key);
          return json(StatusCodes.OK, view);
        });
  }

  // ---------------------------------------------------------------- helpers

  private Route body(Function<JsonNode, Route> inner) {
    return withSizeLimit(64 * 1024, () -> Json.object(inner));
  }

  private Route noCache(java.util.function.Supplier<Route> inner) {
    return respondWithHeader(CacheControl.create(CacheDirectives.NO_CACHE), inner);
  }

  /** The file's own name, without any path, at most 255 characters. */
  static String fileName(String given) {
    String name = given.substring(Math.max(given.lastIndexOf('/'), given.lastIndexOf('\\')) + 1);
    name = name.replaceAll("[\\p{Cntrl}]", "").strip();
    if (name.isEmpty()) {
      return "file";
    }
    return name.length() > 255 ? name.substring(name.length() - 255) : name;
  }

  private static String language(JsonNode body) {
    return "en".equals(text(body, "lang")) ? "en" : "ru";
  }

  private static String text(JsonNode body, String field) {
    JsonNode node = body.get(field);
    return node == null || !node.isTextual() ? null : node.asText();
  }

  private Route error(StatusCode status, String reason) {
    return Json.error(status, reason);
  }

  private Route json(StatusCode status, Object value) {
    return Json.complete(status, value);
  }
}
