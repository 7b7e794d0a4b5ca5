package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.Http;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.botengine.EngineSettings;
import io.botengine.Failures;
import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.telegram.TelegramGateway.Failure;
import io.botengine.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.objects.Update;

/**
 * The Bot API client over a real socket against the Bot API emulator: what arrives, what a refusal
 * looks like to the outbox, what happens when the queue is full, and that the long poll outlives
 * the read timeout. No log event, as logged and before any masking, carries the token.
 */
@ExtendWith(LogCapture.class)
class BotApiClientTest {
  private static final String TOKEN = "123456:client-test-token";
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration POLL_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration WAIT = Duration.ofSeconds(10);

  private static final ActorTestKit emulators = ActorTestKit.create("emulators");
  private static final ActorTestKit testKit = ActorTestKit.create("client");
  private static final ListAppender<ILoggingEvent> rawLog = new ListAppender<>();
  private static BotApiEmulator bot;
  private static BotApiClient client;

  @BeforeAll
  static void start() {
    rawLog.start();
    root().addAppender(rawLog);
    bot = BotApiEmulator.start(emulators.system(), "127.0.0.1", 0, TOKEN);
    client = new BotApiClient(testKit.system(), settings(64, 8192));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    emulators.shutdownTestKit();
    root().detachAppender(rawLog);
  }

  @Test
  void documentArrivesWithItsNameCaptionAndBytes() {
    long user = 101;
    bot.sendText(user, "/start");
    byte[] content = "Иван Иванов, CV\n".getBytes(StandardCharsets.UTF_8);

    long messageId = await(client.send(user,
        new Outgoing.Document("report.md", content, "Your report")));

    Sent sent = bot.awaitSent(user, 1, WAIT).get(0);
    assertEquals("sendDocument", sent.method());
    assertEquals(messageId, sent.messageId());
    assertEquals("report.md", sent.fileName());
    assertEquals("Your report", sent.caption());
    assertArrayEquals(content, sent.document());
  }

  @Test
  void tooManyRequestsSurfacesWithRetryAfter() {
    long user = 102;
    bot.sendText(user, "/start");
    bot.failNext("sendMessage", 1, 429, "Too Many Requests: retry after 7", 7);

    Failure failure = failure(client.send(user, new Outgoing.Text("hello", null)));

    assertEquals(429, failure.code);
    assertEquals(7, failure.retryAfterSeconds);
    assertEquals(0, bot.sentTo(user).size());
  }

  @Test
  void errorDescriptionSurfacesWithItsCode() {
    long user = 103;
    bot.sendText(user, "/start");
    bot.failNext("sendMessage", 1, 400, "Bad Request: can't parse entities: unclosed tag", null);

    Failure failure = failure(client.send(user, new Outgoing.Text("<b>hello", "HTML")));

    assertEquals(400, failure.code);
    assertTrue(failure.getMessage().contains("can't parse entities: unclosed tag"),
        failure.getMessage());
    assertTrue(failure.markupRejected());
  }

  @Test
  void callsBeyondAFullQueueFailAtOnceAsNetworkErrors() {
    long user = 104;
    bot.sendText(user, "/start");
    // One connection, held 2 s by the first call, and room for one call waiting.
    BotApiClient narrow =
        new BotApiClient(testKit.system(), settings(1, 1, Duration.ofSeconds(10)));
    bot.slowNext("sendMessage", 1, Duration.ofSeconds(2));
    List<CompletableFuture<Long>> calls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      calls.add(narrow.send(user, new Outgoing.Text("message " + i, null)).toCompletableFuture());
    }
    List<CompletableFuture<Long>> refused =
        calls.stream().filter(CompletableFuture::isCompletedExceptionally).toList();

    assertFalse(refused.isEmpty(), "no call was refused at once with 1 connection, queue of 1");
    for (CompletableFuture<Long> call : refused) {
      Failure failure = failure(call);
      assertEquals(0, failure.code);
      assertTrue(failure.getMessage().contains("Bot API calls waiting"), failure.getMessage());
    }
    int accepted = calls.size() - refused.size();
    calls.stream().filter(call -> !refused.contains(call)).forEach(BotApiClientTest::await);
    assertEquals(accepted, bot.awaitSent(user, accepted, WAIT).size());
  }

  @Test
  void longPollOutlivesTheReadTimeoutThatCutsOrdinaryCalls() {
    long user = 105;
    long lastUpdate = bot.sendText(user, "/start");
    bot.slowNext("sendMessage", 1, READ_TIMEOUT.multipliedBy(3));

    Failure slow = failure(client.send(user, new Outgoing.Text("slow", null)));
    long polling = System.nanoTime();
    List<Update> updates = await(client.getUpdates(lastUpdate + 1));

    assertEquals(0, slow.code);
    assertTrue(slow.getMessage().contains("no answer within"), slow.getMessage());
    assertEquals(List.of(), updates);
    assertTrue(System.nanoTime() - polling >= POLL_TIMEOUT.minusMillis(500).toNanos(),
        "the poll came back before its timeout");
    assertNoLogEventCarriesTheToken();
  }

  @Test
  void stopLetsTheCallsInFlightFinishCutsTheLongPollAndRefusesNewCalls() {
    ActorTestKit node = ActorTestKit.create("stopping");
    BotApiClient stopping =
        new BotApiClient(node.system(), settings(64, 8192, Duration.ofSeconds(5)));
    long user = 106;
    long lastUpdate = bot.sendText(user, "/start");
    bot.slowNext("sendMessage", 1, Duration.ofMillis(700));
    CompletionStage<Long> inFlight = stopping.send(user, new Outgoing.Text("last words", null));
    CompletionStage<List<Update>> poll = stopping.getUpdates(lastUpdate + 1);
    int before = rawLog.list.size();

    await(stopping.stop()
        .thenCompose(done -> Http.get(node.system()).shutdownAllConnectionPools()));
    node.shutdownTestKit();

    assertTrue(await(inFlight) > 0);
    assertEquals("last words", bot.sentTo(user).get(0).text());
    Failure cut = failure(poll);
    assertEquals(0, cut.code);
    assertEquals("the node is stopping", cut.getMessage());
    Failure late = failure(stopping.send(user, new Outgoing.Text("too late", null)));
    assertEquals("the node is stopping", late.getMessage());
    List<String> poolWarnings = new ArrayList<>();
    for (ILoggingEvent event : new ArrayList<>(rawLog.list).subList(before, rawLog.list.size())) {
      if (event.getLevel().isGreaterOrEqual(Level.WARN)
          && event.getLoggerName().startsWith("akka.http")) {
        poolWarnings.add(event.getLoggerName() + ": " + event.getFormattedMessage());
      }
    }
    assertEquals(List.of(), poolWarnings);
    assertNoLogEventCarriesTheToken();
  }

  private static void assertNoLogEventCarriesTheToken() {
    String secret = TOKEN.substring(TOKEN.indexOf(':') + 1);
    for (ILoggingEvent event : new ArrayList<>(rawLog.list)) {
      StringBuilder text = new StringBuilder(event.getFormattedMessage());
      for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
        text.append(' ').append(t.getMessage());
      }
      assertFalse(text.toString().contains(secret),
          "a log event carries the token: " + event.getLoggerName() + ": " + text);
    }
  }

  private static EngineSettings.Telegram settings(int maxRequests, int maxQueued) {
    return settings(maxRequests, maxQueued, READ_TIMEOUT);
  }

  private static EngineSettings.Telegram settings(
      int maxRequests, int maxQueued, Duration readTimeout) {
    return new EngineSettings.Telegram(TOKEN, bot.baseUrl(), EngineSettings.Mode.POLLING, "",
        "/telegram/webhook", "", POLL_TIMEOUT, 100, Duration.ofMillis(100), Duration.ofSeconds(1),
        1_048_576, maxRequests, maxQueued, Duration.ofSeconds(2), readTimeout);
  }

  private static <T> T await(CompletionStage<T> stage) {
    return stage.toCompletableFuture().orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
  }

  private static Failure failure(CompletionStage<?> stage) {
    Throwable error = stage.toCompletableFuture()
        .orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
        .handle((value, e) -> e)
        .join();
    return assertInstanceOf(Failure.class, Failures.cause(error), "the call did not fail");
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
