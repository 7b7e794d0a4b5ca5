package io.botengine.telegram;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.stream.KillSwitches;
import akka.stream.SharedKillSwitch;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.botengine.BoundedCalls;
import io.botengine.EngineSettings;
import io.botengine.Metrics;
import io.botengine.Failures;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.AnswerPreCheckoutQuery;
import org.telegram.telegrambots.meta.api.methods.GetFile;
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

/**
 * The Bot API through telegrambots' OkHttp client, pointed at {@code TELEGRAM_API_URL}. Every call
 * is asynchronous; failures surface as {@link TelegramGateway.Failure}. File downloads go through
 * Akka HTTP so that their size is capped while streaming; those in flight are cut when the node
 * stops. The token never appears in logs.
 */
public final class BotApiClient implements TelegramGateway {
  /** Telegram Stars, the currency of digital goods. */
  private static final String STARS = "XTR";

  /** Telegram's only subscription period: 30 days. */
  private static final int SUBSCRIPTION_PERIOD_SECONDS = 2_592_000;

  /** Files downloaded at once, each on a connection of its own; more wait their turn. */
  private static final int DOWNLOAD_CONNECTIONS = 32;

  private final ActorSystem<?> system;
  private final Metrics metrics;
  private final OkHttpTelegramClient client;
  private final OkHttpClient http;
  private final EngineSettings.Telegram settings;
  private final Boolean paidBroadcast;
  private final String fileHost;
  private final int filePort;
  private final boolean fileHttps;
  private final String filePathPrefix;
  private final SharedKillSwitch downloadsOpen = KillSwitches.shared("file-downloads");
  private final BoundedCalls downloads = new BoundedCalls(DOWNLOAD_CONNECTIONS);

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
    this.paidBroadcast = paidBroadcast ? Boolean.TRUE : null;
    this.metrics = Metrics.get(system);
    this.settings = settings;
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(settings.clientMaxRequests());
    dispatcher.setMaxRequestsPerHost(settings.clientMaxRequests());
    this.http =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .connectionPool(new ConnectionPool(settings.clientMaxRequests(), 5, TimeUnit.MINUTES))
            .connectTimeout(settings.clientConnectTimeout())
            .readTimeout(settings.clientReadTimeout())
            .writeTimeout(settings.clientReadTimeout())
            .build();
    URI base = URI.create(settings.apiUrl());
    int port = base.getPort() != -1 ? base.getPort() : "https".equals(base.getScheme()) ? 443 : 80;
    TelegramUrl url = new TelegramUrl(base.getScheme(), base.getHost(), port, false);
    this.client = new OkHttpTelegramClient(http, settings.token(), url);
    this.filePathPrefix = "/file/bot" + settings.token() + "/";
    this.fileHost = base.getHost();
    this.filePort = port;
    this.fileHttps = "https".equals(base.getScheme());
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
      return call("sendMessage",
          () -> client.executeAsync(send)).thenApply(m -> m.getMessageId().longValue());
    }
    if (message instanceof Outgoing.Document doc) {
      SendDocument send =
          SendDocument.builder()
              .chatId(chatId)
              .document(new InputFile(new ByteArrayInputStream(doc.content()), doc.fileName()))
              .caption(doc.caption())
              .allowPaidBroadcast(paidBroadcast)
              .build();
      return call("sendDocument",
          () -> client.executeAsync(send)).thenApply(m -> m.getMessageId().longValue());
    }
    if (message instanceof Outgoing.Draft draft) {
      SendMessageDraft send = SendMessageDraft.builder()
          .chatId(chatId)
          .draftId(draft.draftId())
          .text(draft.text())
          .build();
      return call("sendMessageDraft", () -> client.executeAsync(send)).thenApply(r -> 0L);
    }
    if (message instanceof Outgoing.Edit edit) {
      EditMessageText send =
          EditMessageText.builder()
              .chatId(chatId)
              .messageId((int) edit.messageId())
              .text(edit.text())
              .parseMode(edit.parseMode())
              .build();
      return call("editMessageText",
          () -> client.executeAsync(send)).thenApply(r -> edit.messageId());
    }
    if (message instanceof Outgoing.Delete delete) {
      DeleteMessage send = new DeleteMessage(Long.toString(chatId), (int) delete.messageId());
      return call("deleteMessage",
          () -> client.executeAsync(send)).thenApply(r -> delete.messageId());
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
      return call("sendInvoice",
          () -> client.executeAsync(send)).thenApply(m -> m.getMessageId().longValue());
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
      return call("createInvoiceLink", () -> client.executeAsync(link)).thenCompose(url -> {
        SendMessage send = SendMessage.builder()
            .chatId(chatId)
            .text(offer.text())
            .replyMarkup(new InlineKeyboardMarkup(List.of(new InlineKeyboardRow(
                InlineKeyboardButton.builder().text(offer.button()).url(url).build()))))
            .build();
        return call("sendMessage", () -> client.executeAsync(send));
      }).thenApply(m -> m.getMessageId().longValue());
    }
    SendChatAction typing =
        SendChatAction.builder().chatId(chatId).action(ActionType.TYPING.toString()).build();
    return call("sendChatAction", () -> client.executeAsync(typing)).thenApply(r -> 0L);
  }

  @Override
  public CompletionStage<Boolean> answerPreCheckout(String queryId, String errorMessage) {
    AnswerPreCheckoutQuery answer = errorMessage == null
        ? new AnswerPreCheckoutQuery(queryId, true)
        : new AnswerPreCheckoutQuery(queryId, false, errorMessage);
    return call("answerPreCheckoutQuery", () -> client.executeAsync(answer));
  }

  @Override
  public CompletionStage<Boolean> refundStarPayment(long userId, String chargeId) {
    return call("refundStarPayment",
        () -> client.executeAsync(new RefundStarPayment(userId, chargeId)));
  }

  @Override
  public CompletionStage<Boolean> cancelStarSubscription(long userId, String chargeId) {
    return call("editUserStarSubscription",
        () -> client.executeAsync(new EditUserStarSubscription(userId, chargeId, true)));
  }

  @Override
  public CompletionStage<byte[]> download(String fileId, long maxBytes) {
    return call("getFile", () -> client.executeAsync(new GetFile(fileId)))
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
    var connection = Http.get(system).connectionTo(fileHost).toPort(filePort);
    return Source.single(request)
        .via(fileHttps ? connection.https() : connection.http())
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

  /** Long-polls for updates after {@code offset}. */
  public CompletionStage<List<Update>> getUpdates(long offset) {
    GetUpdates get =
        GetUpdates.builder()
            .offset((int) offset)
            .limit(settings.pollLimit())
            .timeout((int) settings.pollTimeout().toSeconds())
            .build();
    return this.<java.util.ArrayList<Update>>call("getUpdates", () -> client.executeAsync(get))
        .thenApply(List::copyOf);
  }

  /** Removes any webhook so that getUpdates works; pending updates are kept. */
  public CompletionStage<Boolean> deleteWebhook() {
    return call("deleteWebhook",
        () -> client.executeAsync(DeleteWebhook.builder().dropPendingUpdates(false).build()));
  }

  /** Registers {@code url} as the webhook, with the secret Telegram will send back. */
  public CompletionStage<Boolean> setWebhook(String url, String secret) {
    return call("setWebhook",
        () -> client.executeAsync(SetWebhook.builder().url(url).secretToken(secret).build()));
  }

  /** Registers the bot's commands for Telegram's command menu, for one language or all (null). */
  public CompletionStage<Boolean> setMyCommands(List<BotCommand> commands, String languageCode) {
    return call("setMyCommands", () -> client.executeAsync(
        SetMyCommands.builder().commands(commands).languageCode(languageCode).build()));
  }

  /** Frees OkHttp's threads and connections. */
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  private interface Call<T> {
    CompletableFuture<T> start() throws TelegramApiException;
  }

  private <T> CompletionStage<T> call(String method, Call<T> call) {
    CompletableFuture<T> started;
    try {
      started = call.start();
    } catch (TelegramApiException e) {
      return CompletableFuture.failedFuture(counted(method, toFailure(e)));
    }
    return started.handle(
        (value, error) -> {
          if (error != null) {
            throw counted(method, toFailure(Failures.cause(error)));
          }
          metrics.telegramCall(method, "ok");
          return value;
        });
  }

  private Failure counted(String method, Failure failure) {
    metrics.telegramCall(method, failure.code == 0 ? "network" : Integer.toString(failure.code));
    if (failure.retryAfterSeconds != null) {
      metrics.retryAfter(failure.retryAfterSeconds);
    }
    return failure;
  }

  private static Failure toFailure(Throwable error) {
    if (error instanceof Failure f) {
      return f;
    }
    if (error instanceof TelegramApiRequestException e && e.getErrorCode() != null) {
      Integer retryAfter = e.getParameters() == null ? null : e.getParameters().getRetryAfter();
      return new Failure(e.getErrorCode(), e.getApiResponse(), retryAfter);
    }
    return new Failure(0, error.getClass().getSimpleName() + ": " + error.getMessage(), null);
  }

}
