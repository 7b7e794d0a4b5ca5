package io.botengine.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.testing.LogCapture;
import io.botengine.testing.SseClient;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The chat page's API over real sockets, without a browser: chat feed, uploads, account. */
@ExtendWith(LogCapture.class)
class SandboxRoutesTest {
  private static final AtomicLong users = new AtomicLong(700_000);
  private static SandboxFixture fixture;

  @BeforeAll
  static void start() {
    fixture = SandboxFixture.start();
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  /** One SSE event as the browser's EventSource would see it. */
  record Event(String type, String id, JsonNode data) {}

  /** The chat feed of a user, read on a thread of its own into a queue. */
  static final class Feed implements AutoCloseable {
    final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final InputStream body;

    Feed(long user, String lastEventId) {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(
              URI.create(fixture.url + "/sandbox/api/users/" + user + "/events"));
      if (lastEventId != null) {
        request.header("Last-Event-ID", lastEventId);
      }
      try {
        HttpResponse<InputStream> response =
            HttpClient.newHttpClient()
                .send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(""));
        body = response.body();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
      Thread reader = new Thread(this::read, "sse-" + user);
      reader.setDaemon(true);
      reader.start();
    }

    private void read() {
      try (BufferedReader lines =
          new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
        String type = "message";
        String id = null;
        StringBuilder data = new StringBuilder();
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          if (line.isEmpty()) {
            if (data.length() > 0) {
              events.add(new Event(type, id, SandboxFixture.json(data.toString())));
            }
            type = "message";
            data.setLength(0);
          } else if (line.startsWith("event:")) {
            type = line.substring(6).strip();
          } else if (line.startsWith("id:")) {
            id = line.substring(3).strip();
          } else if (line.startsWith("data:")) {
            data.append(line.substring(5).strip());
          }
        }
      } catch (IOException closed) {
        // the test closed the feed
      }
    }

    /** The next event, waiting for it at most {@link SandboxFixture#WAIT}. */
    Event next() {
      try {
        Event e = events.poll(SandboxFixture.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(e, "no event within " + SandboxFixture.WAIT);
        return e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** Skips events until one matches. */
    Event until(Predicate<Event> wanted) {
      for (Event e = next(); ; e = next()) {
        if (wanted.test(e)) {
          return e;
        }
      }
    }

    @Override
    public void close() {
      try {
        body.close();
      } catch (IOException ignored) {
        // already closed
      }
    }
  }

  private static Predicate<Event> botText(String prefix) {
    return e ->
        "message".equals(e.data().path("kind").asText())
            && e.data().path("text").asText().startsWith(prefix);
  }

  @Test
  void servesThePageAndItsScripts() {
    HttpResponse<String> page = fixture.send(HttpRequest.newBuilder(URI.create(fixture.url + "/")));
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("/sandbox/chat.js"), page.body());
    for (String asset : new String[] {"chat.js", "markup.js", "chat.css"}) {
      HttpResponse<String> r =
          fixture.send(HttpRequest.newBuilder(URI.create(fixture.url + "/sandbox/" + asset)));
      assertEquals(200, r.statusCode(), asset);
    }
  }

  @Test
  void streamsTheChatAndResumesAfterTheLastEventSeen() {
    long user = users.incrementAndGet();
    String epoch;
    try (Feed feed = new Feed(user, null)) {
      Event hello = feed.next();
      assertEquals("hello", hello.type());
      assertEquals(0, hello.data().path("after").asLong());
      epoch = hello.data().path("epoch").asText();
      fixture.say(user, "/start");
      Event mine = feed.next();
      assertEquals("user_text", mine.data().path("kind").asText());
      assertEquals("/start", mine.data().path("text").asText());
      assertEquals(epoch + ".1", mine.id());
      Event reply = feed.until(botText("👋"));
      assertEquals(epoch + ".2", reply.id());
    }
    try (Feed resumed = new Feed(user, epoch + ".1")) {
      assertEquals(1, resumed.next().data().path("after").asLong());
      assertEquals(epoch + ".2", resumed.next().id(), "only what came after the last event seen");
    }
    try (Feed afterRestart = new Feed(user, "earlier-run.57")) {
      assertEquals(0, afterRestart.next().data().path("after").asLong());
      assertEquals(epoch + ".1", afterRestart.next().id(), "another run's ids: everything again");
    }
  }

  /**
   * The page's way in: the sandbox signs the user's initData with its bot's token, the engine's
   * public event API accepts it, and the chat reaches the page there as {@code chat} events after
   * {@code ack}; what came before is in the history.
   */
  @Test
  void theChatReachesThePageThroughThePublicWebEventApi() {
    long user = users.incrementAndGet();
    fixture.say(user, "/start");
    String initData = fixture.api("GET", user, "init-data", null).body();
    String tma = "tma " + SandboxFixture.json(initData).path("initData").asText();
    int port = URI.create(fixture.url).getPort();
    try (SseClient c = SseClient.connect(port, tma, null)) {
      assertEquals(200, c.status(SandboxFixture.WAIT));
      assertEquals("ack", c.next(SandboxFixture.WAIT).type());
      JsonNode history = SandboxFixture.json(fixture.api("GET", user, "history", null).body());
      assertEquals("user_text", history.path("entries").get(0).path("kind").asText());
      fixture.say(user, "/help");
      // The bot's answer to /start may still come after ack: the first user line is /help.
      SseClient.Event e;
      JsonNode entry;
      do {
        e = c.next(SandboxFixture.WAIT);
        entry = e.type().equals("chat") ? SandboxFixture.json(e.data()) : null;
      } while (entry == null || !entry.path("kind").asText().equals("user_text"));
      assertEquals("/help", entry.path("text").asText());
      assertTrue(e.id() != null);
    }
    try (SseClient other = SseClient.connect(port, tma.replace("Sandbox", "Sandbax"), null)) {
      assertEquals(401, other.status(SandboxFixture.WAIT), "initData changed after signing");
    }
  }

  /** Status line and body of a POST that declares {@code length} bytes and sends none. */
  private String declaredUploadStatus(String path, long length) {
    URI uri = URI.create(fixture.url);
    return rawPost(path, uri.getHost(), SameOrigin.HEADER + ": 1", length);
  }

  /** Status line and body of a POST with the given Host and extra header lines, no body sent. */
  private String rawPost(String path, String host, String headers, long length) {
    URI uri = URI.create(fixture.url);
    try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(10_000);
      String request = "POST " + path + " HTTP/1.1\r\nHost: " + host
          + (headers.isEmpty() ? "" : "\r\n" + headers)
          + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + length
          + "\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(),
          java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("declared upload failed", e);
    }
  }

  @Test
  void refusesUploadsOverFiveMegabytesWith413() {
    long user = users.incrementAndGet();
    byte[] big = new byte[(int) SandboxRoutes.MAX_UPLOAD + 1];
    String path = "/sandbox/api/users/" + user + "/documents?name=big.txt";
    // A declared size over the limit is refused before any body byte is read: send only headers.
    String declared = declaredUploadStatus(path, SandboxRoutes.MAX_UPLOAD + 1);
    assertTrue(declared.startsWith("HTTP/1.1 413"), declared);
    assertTrue(declared.contains("5 MB"), declared);
    try {
      HttpResponse<String> chunked =
          fixture.send(
              HttpRequest.newBuilder(URI.create(fixture.url + path))
                  .header(SameOrigin.HEADER, "1")
                  .timeout(java.time.Duration.ofSeconds(10))
                  .POST(HttpRequest.BodyPublishers.ofInputStream(
                      () -> new ByteArrayInputStream(big))));
      assertEquals(413, chunked.statusCode(), "without Content-Length too");
    } catch (IllegalStateException closedMidUpload) {
      // The server stopped reading at 5 MB and closed the connection while the client was
      // still writing: refused as well. What matters is checked below: nothing reached the chat.
    }
    fixture.say(user, "/balance");
    try (Feed feed = new Feed(user, null)) {
      assertEquals("hello", feed.next().type());
      JsonNode first = feed.next().data();
      assertEquals(
          "/balance", first.path("text").asText(), "a refused file never reaches the chat");
    }
  }

  @Test
  void creditsOncePerIdempotencyKey() {
    long user = users.incrementAndGet();
    String credit = "{\"amount\": 5, \"idempotency_key\": \"sandbox-1f2e3d4c5b6a\"}";
    assertEquals(200, fixture.api("POST", user, "credit", credit).statusCode());
    HttpResponse<String> again = fixture.api("POST", user, "credit", credit);
    assertEquals(5, SandboxFixture.json(again.body()).path("balance").asLong());
    HttpResponse<String> keyless = fixture.api("POST", user, "credit", "{\"amount\": 5}");
    assertEquals(400, keyless.statusCode());
    assertEquals(5, fixture.account(user).path("balance").asLong());
    HttpResponse<String> blocked = fixture.api("POST", user, "block", null);
    assertTrue(SandboxFixture.json(blocked.body()).path("blocked").asBoolean());
  }

  @Test
  void refusesStateChangingCallsFromOtherWebPages() {
    long user = users.incrementAndGet();
    String credit = "{\"amount\": 1000, \"idempotency_key\": \"sandbox-0a1b2c3d4e5f\"}";
    String path = fixture.url + "/sandbox/api/users/" + user + "/";
    // What any web page can send without a preflight: a text/plain form-like POST.
    HttpResponse<String> simple = fixture.send(HttpRequest.newBuilder(URI.create(path + "credit"))
        .header("Content-Type", "text/plain")
        .header("Origin", "https://evil.example")
        .POST(HttpRequest.BodyPublishers.ofString(credit)));
    assertEquals(403, simple.statusCode(), simple.body());
    HttpResponse<String> otherOrigin = fixture.send(HttpRequest.newBuilder(URI.create(path + "block"))
        .header(SameOrigin.HEADER, "1")
        .header("Origin", "https://evil.example")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(403, otherOrigin.statusCode(), otherOrigin.body());
    HttpResponse<String> upload = fixture.send(
        HttpRequest.newBuilder(URI.create(path + "documents?name=cv.txt"))
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString("Иван Петров")));
    assertEquals(403, upload.statusCode(), upload.body());
    String rebound = rawPost("/sandbox/api/users/" + user + "/unblock",
        "attacker.example:" + URI.create(fixture.url).getPort(), SameOrigin.HEADER + ": 1", 0);
    assertTrue(rebound.startsWith("HTTP/1.1 403"), rebound);

    JsonNode account = fixture.account(user);
    assertEquals(0, account.path("balance").asLong(), account.toString());
    assertTrue(!account.path("blocked").asBoolean(), account.toString());
    String self = "http://" + URI.create(fixture.url).getAuthority();
    HttpResponse<String> fromThePage = fixture.send(HttpRequest.newBuilder(URI.create(path + "credit"))
        .header("Content-Type", "application/json")
        .header(SameOrigin.HEADER, "1")
        .header("Origin", self)
        .POST(HttpRequest.BodyPublishers.ofString(credit)));
    assertEquals(200, fromThePage.statusCode(), fromThePage.body());
  }

  @Test
  void runsTheUsersNextJobWithTheChosenScenario() {
    long user = users.incrementAndGet();
    HttpResponse<String> unknown =
        fixture.api("POST", user, "scenario", "{\"scenario\": \"chaos\"}");
    assertEquals(400, unknown.statusCode());
    assertEquals(
        200, fixture.api("POST", user, "scenario", "{\"scenario\": \"error\"}").statusCode());
    assertEquals("error", fixture.account(user).path("scenario").asText());
    try (Feed feed = new Feed(user, null)) {
      fixture.say(user, "/cv");
      feed.until(botText("📄"));
      HttpResponse<String> upload =
          fixture.send(
              HttpRequest.newBuilder(
                      URI.create(
                          fixture.url + "/sandbox/api/users/" + user + "/documents?name=cv.txt"))
                  .header("Content-Type", "text/plain")
                  .header(SameOrigin.HEADER, "1")
                  .POST(HttpRequest.BodyPublishers.ofString("Иван Петров, инженер")));
      assertEquals(200, upload.statusCode(), upload.body());
      feed.until(botText("❌ Ошибка обработки файла"));
    }
    assertEquals(0, fixture.account(user).path("reserved").asLong());
  }

  private static Predicate<Event> kind(String kind) {
    return e -> kind.equals(e.data().path("kind").asText());
  }

  @Test
  void showsInvoicesAndSubscriptionOffersWithTheirPayButtons() {
    long user = users.incrementAndGet();
    fixture.say(user, "/balance");
    try (Feed feed = new Feed(user, null)) {
      fixture.asBot(
          "sendInvoice",
          Map.of(
              "chat_id", user,
              "title", "5 токенов",
              "description", "Пакет <b>токенов</b>",
              "payload", "pack:5",
              "currency", "XTR",
              "prices", List.of(Map.of("label", "Токены", "amount", 50))));
      JsonNode invoice = feed.until(kind("invoice")).data();
      assertEquals("5 токенов", invoice.path("offer").path("title").asText());
      assertEquals("Пакет <b>токенов</b>", invoice.path("offer").path("description").asText());
      assertEquals("pack:5", invoice.path("offer").path("payload").asText());
      assertEquals(50, invoice.path("offer").path("stars").asInt());
      assertFalse(invoice.path("offer").path("subscription").asBoolean());

      fixture.offerSubscription(user,
          Map.of("text", "Условия", "url", "https://example.com/terms"));
      JsonNode offer = feed.until(e -> e.data().has("buttons")).data();
      assertEquals("message", offer.path("kind").asText());
      assertTrue(offer.path("offer").path("subscription").asBoolean());
      assertEquals(100, offer.path("offer").path("stars").asInt());
      JsonNode buttons = offer.path("buttons").path(0);
      assertEquals("Оформить", buttons.path(0).path("text").asText());
      assertTrue(buttons.path(0).path("pay").asBoolean());
      assertEquals("https://example.com/terms", buttons.path(1).path("url").asText());
      assertFalse(buttons.path(1).has("pay"), "a link elsewhere pays nothing");
    }
    HttpResponse<String> unknown =
        fixture.api("POST", user, "pay", "{\"payload\": \"pack:999\"}");
    assertEquals(404, unknown.statusCode(), unknown.body());
    assertEquals(400, fixture.api("POST", user, "pay", "{}").statusCode());
  }

  @Test
  void paysAnOfferedPackThroughTheEmulatorAndTheAccountListsThePayment() {
    long user = users.incrementAndGet();
    try (Feed feed = new Feed(user, null)) {
      fixture.say(user, "/buy");
      JsonNode invoice =
          feed.until(e -> e.data().path("offer").path("title").asText().equals("Пакет: 5 токенов"))
              .data();
      String payload = invoice.path("offer").path("payload").asText();

      HttpResponse<String> paid =
          fixture.api(
              "POST",
              user,
              "pay",
              io.botengine.Json.MAPPER.createObjectNode().put("payload", payload).toString());

      assertEquals(200, paid.statusCode(), paid.body());
      JsonNode result = SandboxFixture.json(paid.body());
      assertTrue(result.path("ok").asBoolean(), paid.body());
      String chargeId = result.path("charge_id").asText();
      JsonNode payment = feed.until(kind("payment")).data();
      assertEquals(50, payment.path("stars").asInt());
      assertEquals("Пакет: 5 токенов", payment.path("title").asText());
      feed.until(botText("✅ Оплачено: +5 токенов"));
      JsonNode account = fixture.account(user);
      assertEquals(6, account.path("balance").asLong(), "the welcome token and the pack's five");
      assertEquals(chargeId, account.path("payments").path(0).path("charge_id").asText());
      assertEquals(5, account.path("payments").path(0).path("tokens").asLong());
    }
    HttpResponse<String> forged =
        fixture.api("POST", user, "pay", "{\"payload\": \"pack:5:1:forged\"}");
    assertEquals(404, forged.statusCode(), "only what the bot offered can be paid");
  }

  @Test
  void refusesMalformedUserIds() {
    HttpResponse<String> r =
        fixture.send(
            HttpRequest.newBuilder(URI.create(fixture.url + "/sandbox/api/users/0x1/account")));
    assertEquals(400, r.statusCode());
  }
}
