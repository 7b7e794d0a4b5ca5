package io.botengine.telegram;

import akka.Done;
import akka.actor.Cancellable;
import akka.actor.CoordinatedShutdown;
import akka.actor.Scheduler;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ConnectHttp;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.Multipart;
import akka.http.javadsl.model.Multiparts;
import akka.http.javadsl.model.RequestEntity;
import akka.http.javadsl.model.ResponseEntity;
import akka.http.javadsl.model.Uri;
import akka.http.javadsl.settings.ClientConnectionSettings;
import akka.http.javadsl.settings.ConnectionPoolSettings;
import akka.japi.Pair;
import akka.stream.BoundedSourceQueue;
import akka.stream.KillSwitches;
import akka.stream.QueueOfferResult;
import akka.stream.SharedKillSwitch;
import akka.stream.SystemMaterializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.botengine.BoundedCalls;
import io.botengine.EngineSettings;
import io.botengine.Failures;
import io.botengine.Json;
import io.botengine.Metrics;
import io.botengine.telegram.BotApiAnswer.Result;
import java.io.ByteArrayInputStream;
import java.io.Serializable;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.telegram.telegrambots.meta.api.methods.AnswerPreCheckoutQuery;
import org.telegram.telegrambots.meta.api.methods.GetFile;
import org.telegram.telegrambots.meta.api.methods.botapimethods.BotApiMethod;
import org.telegram.telegrambots.meta.api.methods.botapimethods.PartialBotApiMethod;
import org.telegram.telegrambots.meta.api.methods.invoices.CreateInvoiceLink;
import org.telegram.telegrambots.meta.api.methods.invoices.SendInvoice;
import org.telegram.telegrambots.meta.api.methods.payments.RefundStarPayment;
import org.telegram.telegrambots.meta.api.methods.payments.star.EditUserStarSubscription;
import org.telegram.telegrambots.meta.api.methods.commands.SetMyCommands;
import org.telegram.telegrambots.meta.api.methods.ActionType;
import org.telegram.telegrambots.meta.api.methods.send.SendChatAction;
import org.telegram.telegrambots.meta.api.methods.send.SendDocument;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.DeleteMessage;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.EditMessageText;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.methods.send.SendMessageDraft;
import org.telegram.telegrambots.meta.api.methods.updates.DeleteWebhook;
import org.telegram.telegrambots.meta.api.methods.updates.GetUpdates;
import org.telegram.telegrambots.meta.api.methods.updates.SetWebhook;
import org.telegram.telegrambots.meta.api.objects.InputFile;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.commands.BotCommand;
import org.telegram.telegrambots.meta.api.objects.payments.LabeledPrice;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.InlineKeyboardMarkup;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.buttons.InlineKeyboardButton;
import org.telegram.telegrambots.meta.api.objects.replykeyboard.buttons.InlineKeyboardRow;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;
import scala.concurrent.duration.FiniteDuration;
import scala.util.Try;

/**
 * The Bot API over Akka HTTP, pointed at {@code TELEGRAM_API_URL}; telegrambots' method classes
 * describe the calls and parse the answers, but for the calls made per output, whose answers
 * {@link BotApiAnswer} reads for the message id alone. Calls wait in a bounded queue (max-queued)
 * for one host connection pool (max-requests connections); a call that finds the queue full fails
 * at once as a network failure, so the outbox retries it. A long poll gets a connection of its
 * own, as does each file download, whose size is capped while streaming. Downloads are cut when
 * the node starts stopping; {@link #stop()} closes the queue, awaits the calls in flight and cuts
 * the long poll, so that the pools shut down with no request to drop (Akka HTTP's warning would
 * name the URL, and so the token). Every call is asynchronous; failures surface as {@link
 * TelegramGateway.Failure}. The token never appears in logs.
 */
public final class BotApiClient implements TelegramGateway {
  /** Telegram Stars, the currency of digital goods. */
  private static final String STARS = "XTR";

  /** Telegram's only subscription period: 30 days. */
  private static final int SUBSCRIPTION_PERIOD_SECONDS = 2_592_000;

  /** Files downloaded at once, each on a connection of its own; more wait their turn. */
  private static final int DOWNLOAD_CONNECTIONS = 32;

  /**
   * How long a stop waits for the calls in flight: the pools shut down after it, within the same
   * shutdown phase (5 s by default).
   */
  private static final Duration STOP_WAIT = Duration.ofSeconds(3);

  private final ActorSystem<?> system;
  private final Scheduler scheduler;
  private final Metrics metrics;
  private final EngineSettings.Telegram settings;
  private final Boolean paidBroadcast;
  private final String apiPathPrefix;
  private final BoundedSourceQueue<Pair<HttpRequest, Pending>> calls;
  private final CompletionStage<Done> callsDone;
  /**
   * The connections of a long poll and of a file download, built once: each call materializes a
   * connection of its own from them, where building one per call read Akka HTTP's client settings
   * from the config and assembled its client layer anew (3-4% of the engine's CPU in scenario (a),
   * one download per job).
   */
  private final Flow<HttpRequest, HttpResponse, ?> longPollConnection;
  private final Flow<HttpRequest, HttpResponse, ?> downloadConnection;
  private final String filePathPrefix;
  private final SharedKillSwitch downloadsOpen = KillSwitches.shared("file-downloads");
  private final SharedKillSwitch longPollsOpen = KillSwitches.shared("long-polls");
  private final BoundedCalls downloads = new BoundedCalls(DOWNLOAD_CONNECTIONS);
  /** Each method's URI, parsed once rather than on every call. */
  private final Map<String, Uri> methodUris = new ConcurrentHashMap<>();

  public BotApiClient(ActorSystem<?> system, EngineSettings.Telegram settings) {
    this(system, settings, false);
  }

  /**
   * With {@code paidBroadcast}, every message and document goes with Telegram's
   * {@code allow_paid_broadcast}, so that the bot may send beyond the free 30 per second.
   */
  public BotApiClient(ActorSystem<?> system, EngineSettings.Telegram settings,
      boolean paidBroadcast) {
    this.system = system;
    this.scheduler = system.classicSystem().scheduler();
    this.paidBroadcast = paidBroadcast ? Boolean.TRUE : null;
    this.metrics = Metrics.get(system);
    this.settings = settings;
    URI base = URI.create(settings.apiUrl());
    boolean https = "https".equals(base.getScheme());
    int port = base.getPort() != -1 ? base.getPort() : https ? 443 : 80;
    String apiHost = base.getHost();
    this.apiPathPrefix = "/bot" + settings.token() + "/";
    this.filePathPrefix = "/file/bot" + settings.token() + "/";
    ClientConnectionSettings defaults = ClientConnectionSettings.create(system.classicSystem());
    ClientConnectionSettings rawHeaders =
        defaults.withParserSettings(defaults.getParserSettings().withModeledHeaderParsing(false));
    // Only an answer's status and body are read: its other headers stay raw, rather than each
    // answer's Date being parsed into a DateTime. A call's own timer (the read timeout) ends a
    // call without an answer; the connection's idle timeout, a second later, only closes the
    // connection it stalled. Were both the same, either could win under load, and the call
    // would end as a network error instead of "no answer within".
    ClientConnectionSettings connection =
        rawHeaders
            .withConnectingTimeout(finite(settings.clientConnectTimeout()))
            .withIdleTimeout(finite(settings.clientReadTimeout().plusSeconds(1)));
    this.longPollConnection =
        connectionTo(apiHost, port, https,
            connection.withIdleTimeout(
                finite(settings.pollTimeout().plus(settings.clientReadTimeout()))));
    // A download reads the answer's status and entity alone, as a call does, with Akka HTTP's
    // default timeouts: the size cap and completion timeout below bound it.
    this.downloadConnection = connectionTo(apiHost, port, https, rawHeaders);
    ConnectionPoolSettings pool =
        ConnectionPoolSettings.create(system.classicSystem())
            .withMaxConnections(settings.clientMaxRequests())
            .withMaxOpenRequests(powerOfTwoAtLeast(settings.clientMaxRequests()))
            .withMaxConnectionBackoff(finite(settings.clientConnectTimeout()))
            .withConnectionSettings(connection);
    ConnectHttp to =
        https ? ConnectHttp.toHostHttps(apiHost, port) : ConnectHttp.toHost(apiHost, port);
    Flow<Pair<HttpRequest, Pending>, Pair<Try<HttpResponse>, Pending>, ?> poolFlow =
        https
            ? Http.get(system).cachedHostConnectionPoolHttps(to, pool, system.classicSystem().log())
            : Http.get(system).cachedHostConnectionPool(to, pool, system.classicSystem().log());
    Pair<BoundedSourceQueue<Pair<HttpRequest, Pending>>, CompletionStage<Done>> stream =
        Source.<Pair<HttpRequest, Pending>>queue(settings.clientMaxQueued())
            .map(this::started)
            .via(poolFlow)
            .toMat(Sink.foreach(answered -> answer(answered.first(), answered.second())),
                Keep.both())
            .run(system);
    this.calls = stream.first();
    this.callsDone = stream.second();
    // A download in flight when the node stops is cut here, while the system still logs. Left to
    // Akka HTTP's pool, it would hold the shutdown and then be "dropped" in a warning printed past
    // logback with the file URL, and so the token, in it.
    CoordinatedShutdown.get(system)
        .addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "abort-file-downloads",
            () -> {
              downloadsOpen.abort(new Failure(0, "the node is stopping", null));
              return CompletableFuture.completedFuture(Done.done());
            });
  }

  @Override
  public CompletionStage<Long> send(long chatId, Outgoing message) {
    if (message instanceof Outgoing.Text text) {
      SendMessage send =
          SendMessage.builder().chatId(chatId).text(text.text()).parseMode(text.parseMode())
              .allowPaidBroadcast(paidBroadcast).build();
      return lean("sendMessage", send, Result.MESSAGE);
    }
    if (message instanceof Outgoing.Document doc) {
      SendDocument send =
          SendDocument.builder()
              .chatId(chatId)
              .document(new InputFile(new ByteArrayInputStream(doc.content()), doc.fileName()))
              .caption(doc.caption())
              .allowPaidBroadcast(paidBroadcast)
              .build();
      return call("sendDocument", send, () -> document(send, doc), this::pooled,
          answer -> BotApiAnswer.read(answer, Result.MESSAGE));
    }
    if (message instanceof Outgoing.Draft draft) {
      SendMessageDraft send = SendMessageDraft.builder()
          .chatId(chatId)
          .draftId(draft.draftId())
          .text(draft.text())
          .build();
      return lean("sendMessageDraft", send, Result.BOOLEAN);
    }
    if (message instanceof Outgoing.Edit edit) {
      EditMessageText send =
          EditMessageText.builder()
              .chatId(chatId)
              .messageId((int) edit.messageId())
              .text(edit.text())
              .parseMode(edit.parseMode())
              .build();
      return lean("editMessageText", send, Result.MESSAGE_OR_BOOLEAN)
          .thenApply(r -> edit.messageId());
    }
    if (message instanceof Outgoing.Delete delete) {
      DeleteMessage send = new DeleteMessage(Long.toString(chatId), (int) delete.messageId());
      return lean("deleteMessage", send, Result.BOOLEAN).thenApply(r -> delete.messageId());
    }
    if (message instanceof Outgoing.Invoice invoice) {
      SendInvoice send = SendInvoice.builder()
          .chatId(chatId)
          .title(invoice.title())
          .description(invoice.description())
          .payload(invoice.payload())
          .currency(STARS)
          .price(new LabeledPrice(invoice.title(), (int) invoice.stars()))
          .build();
      return call("sendInvoice", send).thenApply(m -> m.getMessageId().longValue());
    }
    if (message instanceof Outgoing.SubscriptionOffer offer) {
      CreateInvoiceLink link = CreateInvoiceLink.builder()
          .title(offer.title())
          .description(offer.description())
          .payload(offer.payload())
          .currency(STARS)
          .price(new LabeledPrice(offer.title(), (int) offer.stars()))
          .subscriptionPeriod(SUBSCRIPTION_PERIOD_SECONDS)
          .build();
      return call("createInvoiceLink", link).thenCompose(url -> {
        SendMessage send = SendMessage.builder()
            .chatId(chatId)
            .text(offer.text())
            .replyMarkup(new InlineKeyboardMarkup(List.of(new InlineKeyboardRow(
                InlineKeyboardButton.builder().text(offer.button()).url(url).build()))))
            .build();
        return call("sendMessage", send);
      }).thenApply(m -> m.getMessageId().longValue());
    }
    SendChatAction typing =
        SendChatAction.builder().chatId(chatId).action(ActionType.TYPING.toString()).build();
    return lean("sendChatAction", typing, Result.BOOLEAN);
  }

  @Override
  public CompletionStage<Boolean> answerPreCheckout(String queryId, String errorMessage) {
    AnswerPreCheckoutQuery answer = errorMessage == null
        ? new AnswerPreCheckoutQuery(queryId, true)
        : new AnswerPreCheckoutQuery(queryId, false, errorMessage);
    return call("answerPreCheckoutQuery", answer);
  }

  @Override
  public CompletionStage<Boolean> refundStarPayment(long userId, String chargeId) {
    return call("refundStarPayment", new RefundStarPayment(userId, chargeId));
  }

  @Override
  public CompletionStage<Boolean> cancelStarSubscription(long userId, String chargeId) {
    return call("editUserStarSubscription", new EditUserStarSubscription(userId, chargeId, true));
  }

  @Override
  public CompletionStage<byte[]> download(String fileId, long maxBytes) {
    return call("getFile", new GetFile(fileId))
        .thenCompose(
            file -> {
              if (file.getFileSize() != null && file.getFileSize() > maxBytes) {
                throw new Failure(413, "file is larger than " + maxBytes + " bytes", null);
              }
              return fetch(file.getFilePath(), maxBytes);
            });
  }

  private CompletionStage<byte[]> fetch(String filePath, long maxBytes) {
    return downloads.submit(() -> fetchNow(filePath, maxBytes));
  }

  /**
   * One connection per download, so that a stalled one can be cut ({@link #downloadsOpen}); the
   * response entity is always read or cancelled, never left for a pool to warn about.
   */
  private CompletionStage<byte[]> fetchNow(String filePath, long maxBytes) {
    HttpRequest request = HttpRequest.GET(filePathPrefix + filePath);
    return Source.single(request)
        .via(downloadConnection)
        .via(downloadsOpen.flow())
        .runWith(Sink.head(), system)
        .thenComposeAsync(
            (HttpResponse response) -> {
              if (response.status().intValue() != 200) {
                response.entity().getDataBytes().runWith(Sink.cancelled(), system);
                throw new Failure(response.status().intValue(), "file download refused", null);
              }
              OptionalLong declared = response.entity().getContentLengthOption();
              if (declared.isPresent() && declared.getAsLong() > maxBytes) {
                response.entity().getDataBytes().runWith(Sink.cancelled(), system);
                throw new Failure(413, "file is larger than " + maxBytes + " bytes", null);
              }
              return response.entity()
                  .withSizeLimit(maxBytes)
                  .getDataBytes()
                  .via(downloadsOpen.flow())
                  .completionTimeout(settings.clientReadTimeout())
                  .runFold(ByteString.emptyByteString(), ByteString::concat, system)
                  .thenApply(ByteString::toArray);
            },
            system.executionContext())
        .exceptionallyAsync(
            error -> {
              Throwable cause = Failures.cause(error);
              if (cause instanceof Failure f) {
                throw f;
              }
              if (cause instanceof akka.http.scaladsl.model.EntityStreamSizeException) {
                throw new Failure(413, "file is larger than " + maxBytes + " bytes", null);
              }
              throw new Failure(0, "file download failed: " + cause.getClass().getSimpleName(),
                  null);
            },
            system.executionContext());
  }

  /**
   * Long-polls for updates after {@code offset}, on a connection of its own: its answer may take
   * the poll timeout, and then the read timeout on top of it.
   */
  public CompletionStage<List<Update>> getUpdates(long offset) {
    GetUpdates get =
        GetUpdates.builder()
            .offset((int) offset)
            .limit(settings.pollLimit())
            .timeout((int) settings.pollTimeout().toSeconds())
            .build();
    return call("getUpdates", get, () -> json(get), this::longPoll, get::deserializeResponse)
        .thenApply(List::copyOf);
  }

  /** Removes any webhook so that getUpdates works; pending updates are kept. */
  public CompletionStage<Boolean> deleteWebhook() {
    return call("deleteWebhook", DeleteWebhook.builder().dropPendingUpdates(false).build());
  }

  /** Registers {@code url} as the webhook, with the secret Telegram will send back. */
  public CompletionStage<Boolean> setWebhook(String url, String secret) {
    SetWebhook set = SetWebhook.builder().url(url).secretToken(secret).build();
    return call("setWebhook", set, () -> json(set), this::pooled, set::deserializeResponse);
  }

  /** Registers the bot's commands for Telegram's command menu, for one language or all (null). */
  public CompletionStage<Boolean> setMyCommands(List<BotCommand> commands, String languageCode) {
    return call("setMyCommands",
        SetMyCommands.builder().commands(commands).languageCode(languageCode).build());
  }

  /**
   * Closes the queue (calls made from now on fail as "the node is stopping"), cuts a long poll
   * still open, and completes once the calls in flight are answered (at most {@link #STOP_WAIT}).
   * Run it before the connection pools shut down, so that none has a request left to drop.
   */
  public CompletionStage<Done> stop() {
    calls.complete();
    longPollsOpen.abort(new Failure(0, "the node is stopping", null));
    CompletableFuture<Done> stopped = new CompletableFuture<>();
    callsDone.whenComplete((done, error) -> stopped.complete(Done.getInstance()));
    scheduler.scheduleOnce(STOP_WAIT, () -> stopped.complete(Done.getInstance()),
        system.executionContext());
    return stopped;
  }

  /** A call waiting for its answer: the body, or a failure; it times out once it is sent. */
  private final class Pending {
    final CompletableFuture<String> body = new CompletableFuture<>();
    final Duration timeout;

    Pending(Duration timeout) {
      this.timeout = timeout;
    }

    void start() {
      Cancellable timer = scheduler.scheduleOnce(timeout,
          () -> body.completeExceptionally(
              new Failure(0, "no answer within " + timeout.toMillis() + " ms", null)),
          system.executionContext());
      body.whenComplete((b, e) -> timer.cancel());
    }
  }

  /** The entity of a call: its parameters as JSON, or as multipart/form-data for a file. */
  private interface Body {
    RequestEntity entity() throws TelegramApiException;
  }

  /** Sends a call through the pool and fails on time, or at once when the queue is full. */
  private interface Transport {
    CompletionStage<String> send(HttpRequest request);
  }

  /** Reads a call's answer into its value, or fails as Telegram refused it. */
  private interface Reader<T> {
    T read(String answer) throws TelegramApiRequestException;
  }

  /** {@code name}: the method as metrics and logs spell it (telegrambots lower-cases some). */
  private <T extends Serializable> CompletionStage<T> call(String name, BotApiMethod<T> method) {
    return call(name, method, () -> json(method), this::pooled, method::deserializeResponse);
  }

  /**
   * A call made once or more per output: its answer is read by {@link BotApiAnswer} for the
   * message id alone, not by telegrambots into a whole Message.
   */
  private CompletionStage<Long> lean(String name, BotApiMethod<?> method, Result result) {
    return call(name, method, () -> json(method), this::pooled,
        answer -> BotApiAnswer.read(answer, result));
  }

  private <T> CompletionStage<T> call(String name, PartialBotApiMethod<?> method, Body body,
      Transport transport, Reader<T> reader) {
    HttpRequest request;
    try {
      method.validate();
      request = HttpRequest.create()
          .withMethod(HttpMethods.POST)
          .withUri(methodUris.computeIfAbsent(method.getMethod(),
              m -> Uri.create(apiPathPrefix + m)))
          .withEntity(body.entity());
    } catch (TelegramApiException e) {
      return CompletableFuture.failedFuture(counted(name, toFailure(e)));
    }
    return transport.send(request).handle(
        (answer, error) -> {
          if (error != null) {
            throw counted(name, toFailure(Failures.cause(error)));
          }
          T value;
          try {
            value = reader.read(answer);
          } catch (TelegramApiRequestException | Failure e) {
            throw counted(name, toFailure(e));
          }
          metrics.telegramCall(name, "ok");
          return value;
        });
  }

  private static RequestEntity json(PartialBotApiMethod<?> method) throws TelegramApiException {
    try {
      return HttpEntities.create(
          ContentTypes.APPLICATION_JSON, Json.MAPPER.writeValueAsBytes(method));
    } catch (JsonProcessingException e) {
      throw new TelegramApiException("Unable to serialize " + method.getMethod(), e);
    }
  }

  /** As Telegram takes a new file: its own part, named and typed, beside the other parameters. */
  private static RequestEntity document(SendDocument send, Outgoing.Document doc) {
    List<Multipart.FormData.BodyPart.Strict> parts = new ArrayList<>();
    parts.add(field(SendDocument.CHAT_ID_FIELD, send.getChatId()));
    if (send.getCaption() != null) {
      parts.add(field(SendDocument.CAPTION_FIELD, send.getCaption()));
    }
    if (send.getAllowPaidBroadcast() != null) {
      parts.add(field(SendDocument.ALLOW_PAID_BROADCAST_FIELD,
          send.getAllowPaidBroadcast().toString()));
    }
    parts.add(Multiparts.createFormDataBodyPartStrict(SendDocument.DOCUMENT_FIELD,
        HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, doc.content()),
        Map.of("filename", doc.fileName())));
    return Multiparts.createFormDataFromParts(
        parts.toArray(new Multipart.FormData.BodyPart.Strict[0])).toEntity();
  }

  private static Multipart.FormData.BodyPart.Strict field(String name, String value) {
    return Multiparts.createFormDataBodyPartStrict(name, HttpEntities.create(value));
  }

  private CompletionStage<String> pooled(HttpRequest request) {
    Pending pending = new Pending(settings.clientReadTimeout());
    QueueOfferResult offered = calls.offer(Pair.create(request, pending));
    if (!offered.isEnqueued()) {
      pending.body.completeExceptionally(new Failure(0,
          offered == QueueOfferResult.dropped()
              ? "more than " + settings.clientMaxQueued() + " Bot API calls waiting"
              : "the node is stopping",
          null));
    }
    return pending.body;
  }

  private Flow<HttpRequest, HttpResponse, ?> connectionTo(String host, int port, boolean https,
      ClientConnectionSettings connection) {
    var to = Http.get(system).connectionTo(host).toPort(port)
        .withClientConnectionSettings(connection);
    return https ? to.https() : to.http();
  }

  /** A request leaves the queue for the pool: its answer is due within the read timeout. */
  private Pair<HttpRequest, Pending> started(Pair<HttpRequest, Pending> call) {
    call.second().start();
    return call;
  }

  private CompletionStage<String> longPoll(HttpRequest request) {
    Pending pending = new Pending(settings.pollTimeout().plus(settings.clientReadTimeout()));
    pending.start();
    Source.single(request)
        .via(longPollConnection)
        .via(longPollsOpen.flow())
        .runWith(Sink.head(), system)
        .whenComplete((response, error) ->
            answer(error == null ? Try.apply(() -> response) : new scala.util.Failure<>(error),
                pending));
    return pending.body;
  }

  /**
   * Reads the whole answer, even of a call that has timed out, so that the pool never warns about
   * an entity left unread (with the URI, and so the token, in the warning).
   */
  private void answer(Try<HttpResponse> response, Pending pending) {
    if (response.isFailure()) {
      pending.body.completeExceptionally(response.failed().get());
      return;
    }
    ResponseEntity entity = response.get().entity();
    if (entity instanceof HttpEntity.Strict strict) {
      // Completed on the dispatcher, not on the one stream that reads every answer off the pool:
      // the caller's parsing of the answer (telegrambots' of a whole Message, when it was used for
      // every send) is a good part of a call's cost, and done in that stream it served one answer
      // at a time (each job's first output waited seconds behind a burst of job starts).
      String body = strict.getData().utf8String();
      system.executionContext().execute(() -> pending.body.complete(body));
      return;
    }
    entity.toStrict(pending.timeout.toMillis(), SystemMaterializer.get(system).materializer())
        .whenComplete((strict, error) -> {
          if (error != null) {
            pending.body.completeExceptionally(error);
          } else {
            pending.body.complete(strict.getData().utf8String());
          }
        });
  }

  private Failure counted(String method, Failure failure) {
    metrics.telegramCall(method, failure.code == 0 ? "network" : Integer.toString(failure.code));
    if (failure.retryAfterSeconds != null) {
      metrics.retryAfter(failure.retryAfterSeconds);
    }
    return failure;
  }

  private Failure toFailure(Throwable error) {
    if (error instanceof Failure f) {
      return f;
    }
    if (error instanceof TelegramApiRequestException e && e.getErrorCode() != null) {
      Integer retryAfter = e.getParameters() == null ? null : e.getParameters().getRetryAfter();
      return new Failure(e.getErrorCode(), e.getApiResponse(), retryAfter);
    }
    String reason = error.getClass().getSimpleName() + ": " + error.getMessage();
    return new Failure(0, reason.replace(settings.token(), "<token>"), null);
  }

  private static FiniteDuration finite(Duration duration) {
    return FiniteDuration.create(duration.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Akka HTTP's max-open-requests must be a power of two. */
  private static int powerOfTwoAtLeast(int n) {
    return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
  }
}
