package io.botengine.sandbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.japi.function.Function;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.testing.LogCapture;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.FormBody;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.GetFile;
import org.telegram.telegrambots.meta.api.methods.GetMe;
import org.telegram.telegrambots.meta.api.methods.commands.GetMyCommands;
import org.telegram.telegrambots.meta.api.methods.commands.SetMyCommands;
import org.telegram.telegrambots.meta.api.methods.send.SendChatAction;
import org.telegram.telegrambots.meta.api.methods.send.SendDocument;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.methods.send.SendMessageDraft;
import org.telegram.telegrambots.meta.api.methods.updates.DeleteWebhook;
import org.telegram.telegrambots.meta.api.methods.updates.GetUpdates;
import org.telegram.telegrambots.meta.api.methods.updates.SetWebhook;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.DeleteMessage;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.EditMessageText;
import org.telegram.telegrambots.meta.api.objects.File;
import org.telegram.telegrambots.meta.api.objects.InputFile;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.User;
import org.telegram.telegrambots.meta.api.objects.commands.BotCommand;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;

@ExtendWith(LogCapture.class)
class BotApiEmulatorTest {
  private static final String TOKEN = "123456:TEST-token_abc";
  private static final long USER = 42L;
  private static final Duration WAIT = Duration.ofSeconds(5);

  private static ActorTestKit testKit;
  private static final OkHttpClient http = new OkHttpClient();

  private BotApiEmulator emulator;
  private OkHttpTelegramClient client;

  @BeforeAll
  static void startSystem() {
    testKit =
        ActorTestKit.create(
            "BotApiEmulatorTest",
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
    client = clientWithToken(TOKEN);
  }

  @AfterEach
  void stop() {
    emulator.close();
  }

  private OkHttpTelegramClient clientWithToken(String token) {
    TelegramUrl url =
        TelegramUrl.builder()
            .schema("http")
            .host("127.0.0.1")
            .port(emulator.port())
            .testServer(false)
            .build();
    return new OkHttpTelegramClient(token, url);
  }

  private static TelegramApiRequestException apiError(Executable call) {
    return assertThrows(TelegramApiRequestException.class, call);
  }

  private static SendMessage text(long chatId, String text, String parseMode) {
    return SendMessage.builder().chatId(chatId).text(text).parseMode(parseMode).build();
  }

  @Test
  void getMeAnswersTheBotFromTheToken() throws Exception {
    User me = client.execute(new GetMe());

    assertEquals(123456L, me.getId());
    assertTrue(me.getIsBot());
    assertEquals(List.of("getMe"), emulator.callLog());
    assertEquals("http://127.0.0.1:" + emulator.port(), emulator.baseUrl());
  }

  @Test
  void wrongTokenIsUnauthorizedAndUnknownMethodIsNotFound() throws Exception {
    TelegramApiRequestException e = apiError(() -> clientWithToken("1:wrong").execute(new GetMe()));
    assertEquals(401, e.getErrorCode());
    assertEquals("Unauthorized", e.getApiResponse());

    Request unknown =
        new Request.Builder().url(emulator.baseUrl() + "/bot" + TOKEN + "/sendTelepathy").build();
    try (Response response = http.newCall(unknown).execute()) {
      assertEquals(404, response.code());
      assertEquals(
          "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}",
          response.body().string());
    }
  }

  @Test
  void sendMessageNumbersMessagesPerChatAndRecordsThem() throws Exception {
    emulator.sendText(USER, "hello");

    Message first = client.execute(text(USER, "*Welcome*", "Markdown"));
    Message second = client.execute(text(USER, "plain", null));

    assertEquals(2, first.getMessageId());
    assertEquals(3, second.getMessageId());
    assertEquals("Welcome", first.getText());
    assertEquals(USER, first.getChatId());
    List<Sent> sent = emulator.awaitSent(USER, 2, WAIT);
    assertEquals("sendMessage", sent.get(0).method());
    assertEquals("*Welcome*", sent.get(0).text());
    assertEquals("Markdown", sent.get(0).parseMode());
    assertEquals(3, sent.get(1).messageId());
    assertNull(sent.get(1).parseMode());
    assertEquals(List.of("sendMessage", "sendMessage"), emulator.callLog());
  }

  @Test
  void sendMessageToAChatThatNeverWroteIsChatNotFound() {
    TelegramApiRequestException e = apiError(() -> client.execute(text(777L, "hi", null)));

    assertEquals(400, e.getErrorCode());
    assertEquals("Bad Request: chat not found", e.getApiResponse());
    assertTrue(emulator.sent().isEmpty());
  }

  @Test
  void badMarkupLengthAndEmptinessAreRejectedLikeTelegram() {
    emulator.sendText(USER, "hello");

    TelegramApiRequestException markdown =
        apiError(() -> client.execute(text(USER, "Your file my_cv.pdf is ready", "Markdown")));
    assertEquals(400, markdown.getErrorCode());
    assertEquals(
        "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset"
            + " 12",
        markdown.getApiResponse());

    TelegramApiRequestException v2 =
        apiError(() -> client.execute(text(USER, "Done. Thanks!", "MarkdownV2")));
    assertEquals(
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with"
            + " the preceding '\\'",
        v2.getApiResponse());

    TelegramApiRequestException html =
        apiError(() -> client.execute(text(USER, "<b>bold</i>", "HTML")));
    assertTrue(html.getApiResponse().startsWith("Bad Request: can't parse entities: Unmatched"));

    TelegramApiRequestException tooLong =
        apiError(() -> client.execute(text(USER, "x".repeat(4097), null)));
    assertEquals("Bad Request: message is too long", tooLong.getApiResponse());

    TelegramApiRequestException empty =
        apiError(() -> client.execute(text(USER, "**", "Markdown")));
    assertEquals("Bad Request: message text is empty", empty.getApiResponse());

    assertTrue(emulator.sent().isEmpty());
  }

  @Test
  void validMarkupOfEveryModePasses() throws Exception {
    emulator.sendText(USER, "hello");

    client.execute(text(USER, "*Bold* _it_ `code` [link](https://x.io/a_b) my\\_cv", "Markdown"));
    client.execute(
        text(USER, "*Bold* __u__ ||s|| Done\\. [a](https://x.io/\\(1\\))", "MarkdownV2"));
    client.execute(text(USER, "<b>Bold</b> &lt;3 <a href=\"https://x.io\">x</a>", "HTML"));
    client.execute(
        text(USER, "> quote\n![👍](tg://emoji?id=5368324170671202286) ok", "MarkdownV2"));

    assertEquals(4, emulator.sentTo(USER).size());
  }

  @Test
  void sendDocumentRecordsFileNameCaptionAndContent() throws Exception {
    emulator.sendText(USER, "hello");
    byte[] report = "%PDF-1.4 report".getBytes(StandardCharsets.UTF_8);

    Message message =
        client.execute(
            SendDocument.builder()
                .chatId(USER)
                .document(new InputFile(new ByteArrayInputStream(report), "report.pdf"))
                .caption("Your *report*")
                .parseMode("Markdown")
                .build());

    assertEquals("report.pdf", message.getDocument().getFileName());
    assertEquals("application/pdf", message.getDocument().getMimeType());
    assertEquals(report.length, message.getDocument().getFileSize());
    assertEquals("Your report", message.getCaption());
    Sent sent = emulator.awaitSent(USER, 1, WAIT).get(0);
    assertEquals("sendDocument", sent.method());
    assertEquals("report.pdf", sent.fileName());
    assertArrayEquals(report, sent.document());
    assertEquals("Your *report*", sent.caption());
    assertEquals("Markdown", sent.parseMode());

    TelegramApiRequestException tooLong =
        apiError(
            () ->
                client.execute(
                    SendDocument.builder()
                        .chatId(USER)
                        .document(new InputFile(new ByteArrayInputStream(report), "r.pdf"))
                        .caption("c".repeat(1025))
                        .build()));
    assertEquals("Bad Request: message caption is too long", tooLong.getApiResponse());
  }

  @Test
  void uploadsBeyondAkkaDefaultEntityLimitAreAccepted() throws Exception {
    emulator.sendText(USER, "hello");
    byte[] big = new byte[9 * 1024 * 1024];

    client.execute(
        SendDocument.builder()
            .chatId(USER)
            .document(new InputFile(new ByteArrayInputStream(big), "big.bin"))
            .build());

    assertEquals(big.length, emulator.sentTo(USER).get(0).document().length);
  }

  @Test
  void getFileAndDownloadServeTheInjectedBytes() throws Exception {
    byte[] cv = "Jane Doe, engineer".getBytes(StandardCharsets.UTF_8);
    emulator.sendDocument(USER, "cv.txt", "text/plain", cv);
    Update update = client.execute(GetUpdates.builder().build()).get(0);
    String fileId = update.getMessage().getDocument().getFileId();

    File file = client.execute(GetFile.builder().fileId(fileId).build());

    assertEquals(fileId, file.getFileId());
    assertEquals(cv.length, file.getFileSize());
    Request download =
        new Request.Builder()
            .url(emulator.baseUrl() + "/file/bot" + TOKEN + "/" + file.getFilePath())
            .build();
    try (Response response = http.newCall(download).execute()) {
      assertEquals(200, response.code());
      assertArrayEquals(cv, response.body().bytes());
    }
  }

  @Test
  void aLyingFileSizeIsReportedAndBigFilesCannotBeFetched() throws Exception {
    emulator.sendDocument(USER, "huge.pdf", "application/pdf", new byte[] {1}, 30_000_000L);
    Update update = client.execute(GetUpdates.builder().build()).get(0);

    assertEquals(30_000_000L, update.getMessage().getDocument().getFileSize());
    TelegramApiRequestException e =
        apiError(
            () ->
                client.execute(
                    GetFile.builder()
                        .fileId(update.getMessage().getDocument().getFileId())
                        .build()));
    assertEquals("Bad Request: file is too big", e.getApiResponse());
  }

  @Test
  void longPollReturnsAnInjectedDocumentAndAnOffsetConfirmsIt() throws Exception {
    CompletableFuture<ArrayList<Update>> poll =
        client.executeAsync(GetUpdates.builder().timeout(10).build());
    assertTrue(emulator.awaitLongPoll(WAIT));
    assertFalse(poll.isDone());

    long updateId =
        emulator.sendDocument(USER, "cv.pdf", "application/pdf", new byte[] {1, 2, 3}, 3);
    List<Update> updates = poll.get(5, TimeUnit.SECONDS);

    assertEquals(1, updates.size());
    Update update = updates.get(0);
    assertEquals(updateId, update.getUpdateId().longValue());
    Message message = update.getMessage();
    assertEquals(USER, message.getChatId());
    assertEquals("private", message.getChat().getType());
    assertEquals(USER, message.getFrom().getId());
    assertEquals("cv.pdf", message.getDocument().getFileName());
    assertEquals("application/pdf", message.getDocument().getMimeType());
    assertEquals(3L, message.getDocument().getFileSize());
    assertFalse(message.hasText());

    List<Update> next =
        client.execute(GetUpdates.builder().offset((int) updateId + 1).timeout(0).build());
    assertTrue(next.isEmpty());
    assertEquals(updateId + 1, emulator.confirmedOffset());
  }

  @Test
  void longPollTimesOutWithAnEmptyList() throws Exception {
    List<Update> updates = client.execute(GetUpdates.builder().timeout(1).build());

    assertTrue(updates.isEmpty());
  }

  @Test
  void textUpdatesCarryCommandsAndLanguageAndPhotosHaveNoDocument() throws Exception {
    emulator.sendText(USER, "/start@emulated_bot now", "de");
    emulator.sendPhoto(USER);

    List<Update> updates = client.execute(GetUpdates.builder().build());

    Message command = updates.get(0).getMessage();
    // telegrambots 10 fills an entity's text in getEntities(); isCommand() reads it.
    assertEquals("/start@emulated_bot", command.getEntities().get(0).getText());
    assertTrue(command.isCommand());
    assertEquals("de", command.getFrom().getLanguageCode());
    Message photo = updates.get(1).getMessage();
    assertTrue(photo.hasPhoto());
    assertFalse(photo.hasDocument());
    assertFalse(photo.hasText());
    assertEquals(3, photo.getPhoto().size());
  }

  @Test
  void redeliverHandsTheSameUpdateOutOnceMore() throws Exception {
    long first = emulator.sendText(USER, "one");
    assertEquals(1, client.execute(GetUpdates.builder().build()).size());
    int offset = (int) first + 1;
    assertTrue(client.execute(GetUpdates.builder().offset(offset).build()).isEmpty());

    assertEquals(first, emulator.redeliver(first));

    List<Update> again = client.execute(GetUpdates.builder().offset(offset).build());
    assertEquals(1, again.size());
    assertEquals(first, again.get(0).getUpdateId().longValue());
    assertEquals("one", again.get(0).getMessage().getText());
    assertTrue(client.execute(GetUpdates.builder().offset(offset).build()).isEmpty());
  }

  @Test
  void failNextSurfacesRetryAfterThenRecovers() throws Exception {
    emulator.sendText(USER, "hello");
    emulator.failNext("sendMessage", 1, 429, "Too Many Requests: retry after 3", 3);

    TelegramApiRequestException e = apiError(() -> client.execute(text(USER, "hi", null)));

    assertEquals(429, e.getErrorCode());
    assertEquals("Too Many Requests: retry after 3", e.getApiResponse());
    assertEquals(3, e.getParameters().getRetryAfter());
    assertTrue(emulator.sent().isEmpty());
    client.execute(text(USER, "hi", null));
    assertEquals(1, emulator.sent().size());
    assertEquals(List.of("sendMessage", "sendMessage"), emulator.callLog());
  }

  @Test
  void editDeleteAndChatActionAreRecorded() throws Exception {
    emulator.sendText(USER, "hello");
    Message message = client.execute(text(USER, "Working…", null));

    client.execute(SendChatAction.builder().chatId(USER).action("typing").build());
    client.execute(
        EditMessageText.builder()
            .chatId(USER)
            .messageId(message.getMessageId())
            .text("Done")
            .build());
    TelegramApiRequestException same =
        apiError(
            () ->
                client.execute(
                    EditMessageText.builder()
                        .chatId(USER)
                        .messageId(message.getMessageId())
                        .text("Done")
                        .build()));
    client.execute(DeleteMessage.builder().chatId(USER).messageId(message.getMessageId()).build());
    TelegramApiRequestException gone =
        apiError(
            () ->
                client.execute(
                    DeleteMessage.builder()
                        .chatId(USER)
                        .messageId(message.getMessageId())
                        .build()));

    assertTrue(same.getApiResponse().startsWith("Bad Request: message is not modified"));
    assertEquals("Bad Request: message to delete not found", gone.getApiResponse());
    List<Sent> sent = emulator.sentTo(USER);
    assertEquals(
        List.of("sendMessage", "sendChatAction", "editMessageText", "deleteMessage"),
        sent.stream().map(Sent::method).toList());
    assertEquals("typing", sent.get(1).text());
    assertEquals(message.getMessageId().longValue(), sent.get(2).messageId());
    assertEquals("Done", sent.get(2).text());
    assertEquals(message.getMessageId().longValue(), sent.get(3).messageId());
  }

  @Test
  void recordsDraftsOfPrivateChatsAndRefusesThemInGroupsOrWhenTold() throws Exception {
    emulator.sendText(USER, "hello");
    client.execute(SendMessageDraft.builder().chatId(USER).draftId(7).text("Пишу").build());
    client.execute(SendMessageDraft.builder().chatId(USER).draftId(7).text("Пишу ответ").build());
    List<Sent> drafts = emulator.sentTo(USER).stream()
        .filter(s -> s.method().equals("sendMessageDraft")).toList();
    assertEquals(List.of("Пишу", "Пишу ответ"), drafts.stream().map(Sent::text).toList());
    assertEquals(7, drafts.get(1).messageId());

    assertEquals("Bad Request: TEXTDRAFT_PEER_INVALID", apiError(() -> client.execute(
        SendMessageDraft.builder().chatId(-100123L).draftId(7).text("x").build()))
        .getApiResponse());
    Request zero = new Request.Builder()
        .url(emulator.baseUrl() + "/bot" + TOKEN + "/sendMessageDraft")
        .post(new FormBody.Builder().add("chat_id", Long.toString(USER)).add("draft_id", "0")
            .add("text", "x").build())
        .build();
    try (Response response = http.newCall(zero).execute()) {
      assertEquals(400, response.code());
    }

    emulator.refuseDrafts(true);
    assertEquals(400, apiError(() -> client.execute(
        SendMessageDraft.builder().chatId(USER).draftId(7).text("x").build())).getErrorCode());
    assertEquals(2, emulator.sentTo(USER).stream()
        .filter(s -> s.method().equals("sendMessageDraft")).count());
  }

  @Test
  void commandsAreRecordedAndReturned() throws Exception {
    client.execute(
        SetMyCommands.builder()
            .command(new BotCommand("start", "Start the bot"))
            .command(new BotCommand("cv", "Analyse a CV"))
            .build());

    assertEquals(
        List.of(
            Map.of("command", "start", "description", "Start the bot"),
            Map.of("command", "cv", "description", "Analyse a CV")),
        emulator.myCommands());
    List<BotCommand> commands = client.execute(new GetMyCommands());
    assertEquals("cv", commands.get(1).getCommand());
  }

  @Test
  void formEncodedAndQueryParametersAreAccepted() throws Exception {
    emulator.sendText(USER, "hello");
    Request form =
        new Request.Builder()
            .url(emulator.baseUrl() + "/bot" + TOKEN + "/sendMessage")
            .post(new FormBody.Builder().add("chat_id", "42").add("text", "a + b = c").build())
            .build();
    Request query =
        new Request.Builder()
            .url(emulator.baseUrl() + "/bot" + TOKEN + "/SENDMESSAGE?chat_id=42&text=hey")
            .build();
    Request json =
        new Request.Builder()
            .url(emulator.baseUrl() + "/bot" + TOKEN + "/sendMessage")
            .post(
                RequestBody.create(
                    "{\"chat_id\":42,\"text\":\"json\"}", MediaType.parse("application/json")))
            .build();

    for (Request request : List.of(form, query, json)) {
      try (Response response = http.newCall(request).execute()) {
        assertEquals(200, response.code(), response.body().string());
      }
    }

    assertEquals(
        List.of("a + b = c", "hey", "json"),
        emulator.sentTo(USER).stream().map(Sent::text).toList());
  }

  @Test
  void awaitSentWaitsForCallsAndReportsWhatArrivedOnTimeout() throws Exception {
    emulator.sendText(USER, "hello");
    CompletableFuture<Sent> streamed = new CompletableFuture<>();
    emulator.onSent(streamed::complete);

    client.executeAsync(text(USER, "later", null));
    assertEquals("later", emulator.awaitSent(USER, 1, WAIT).get(0).text());
    assertEquals("later", streamed.get(5, TimeUnit.SECONDS).text());

    AssertionError timeout =
        assertThrows(
            AssertionError.class, () -> emulator.awaitSent(USER, 2, Duration.ofMillis(50)));
    assertTrue(timeout.getMessage().contains("got 1"), timeout.getMessage());
    assertTrue(timeout.getMessage().contains("\"later\""), timeout.getMessage());
  }

  @Test
  void webhookDeliveryCarriesTheSecretAndIsRetriedUntilAccepted() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    List<String> secrets = new CopyOnWriteArrayList<>();
    CompletableFuture<String> accepted = new CompletableFuture<>();
    Function<HttpRequest, CompletionStage<HttpResponse>> webhook =
        request ->
            request
                .entity()
                .toStrict(5_000, testKit.system())
                .thenApply(
                    entity -> {
                      secrets.add(
                          request
                              .getHeader("X-Telegram-Bot-Api-Secret-Token")
                              .map(HttpHeader::value)
                              .orElse("none"));
                      if (attempts.incrementAndGet() == 1) {
                        return HttpResponse.create().withStatus(StatusCodes.SERVICE_UNAVAILABLE);
                      }
                      accepted.complete(entity.getData().utf8String());
                      return HttpResponse.create();
                    });
    ServerBinding hook =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .bind(webhook)
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    try {
      String url = "http://127.0.0.1:" + hook.localAddress().getPort() + "/telegram";
      assertTrue(client.execute(SetWebhook.builder().url(url).secretToken("s3cr3t").build()));
      assertEquals(url, emulator.webhookUrl().orElseThrow());

      long updateId = emulator.sendText(USER, "via webhook");
      Update update = new ObjectMapper().readValue(accepted.get(5, TimeUnit.SECONDS), Update.class);

      assertEquals(updateId, update.getUpdateId().longValue());
      assertEquals("via webhook", update.getMessage().getText());
      assertEquals(2, attempts.get());
      assertEquals(List.of("s3cr3t", "s3cr3t"), secrets);
      TelegramApiRequestException conflict =
          apiError(() -> client.execute(GetUpdates.builder().build()));
      assertEquals(409, conflict.getErrorCode());
      assertTrue(client.execute(DeleteWebhook.builder().build()));
      assertTrue(emulator.webhookUrl().isEmpty());
    } finally {
      hook.terminate(Duration.ofSeconds(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }
}
