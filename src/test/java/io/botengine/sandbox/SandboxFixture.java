package io.botengine.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A whole sandbox in the test's JVM, as {@code java -jar} starts it without a token, on a free HTTP
 * port and a journal of its own under {@code target/}; plus plain HTTP calls to its page API.
 */
final class SandboxFixture implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  final Sandbox sandbox;
  final String url;
  private final HttpClient http = HttpClient.newHttpClient();

  private SandboxFixture(Sandbox sandbox) {
    this.sandbox = sandbox;
    this.url = "http://127.0.0.1:" + sandbox.port();
  }

  static SandboxFixture start() {
    Path journal = Path.of("target", "sandbox-journals", UUID.randomUUID().toString(), "journal");
    Config config =
        ConfigFactory.load(
            ConfigFactory.parseMap(
                    Map.of(
                        "bot.persistence.jdbc-url", "jdbc:h2:file:" + journal.toAbsolutePath(),
                        "akka.persistence.journal.plugin", "jdbc-journal",
                        "akka.persistence.snapshot-store.plugin", "jdbc-snapshot-store",
                        "bot.telegram.polling.timeout", "2s",
                        // The page tests watch a streamed answer grow: on a loaded machine the
                        // default 1 message/s per chat left room for a single draft.
                        "bot.telegram.delivery.chat-rate", 10,
                        "bot.telegram.delivery.chat-burst", 10,
                        "bot.streaming.preview-interval", "200ms",
                        "akka.loglevel", "INFO"))
                .withFallback(ConfigFactory.parseResourcesAnySyntax("application-test.conf")));
    return new SandboxFixture(Sandbox.start(config));
  }

  /** The engine's cost of one analysis, as configured. */
  long cvCost() {
    return sandbox.engine().settings().billing().cvCost();
  }

  /** A call to the page API of one user ({@code path} after {@code /sandbox/api/users/{id}/}). */
  HttpResponse<String> api(String method, long user, String path, String json) {
    return send(
        HttpRequest.newBuilder(URI.create(url + "/sandbox/api/users/" + user + "/" + path))
            .timeout(WAIT)
            .header("Content-Type", "application/json")
            .header(SameOrigin.HEADER, "1")
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json)));
  }

  /** The user's account as the page sees it. */
  JsonNode account(long user) {
    return json(api("GET", user, "account", null).body());
  }

  /** Sends a text as the user, in Russian. */
  void say(long user, String text) {
    HttpResponse<String> r =
        api(
            "POST",
            user,
            "messages",
            JSON.createObjectNode().put("text", text).put("lang", "ru").toString());
    if (r.statusCode() != 200) {
      throw new AssertionError("sending " + text + " answered " + r.statusCode() + " " + r.body());
    }
  }

  /** A call as the bot, to the Bot API emulator (JSON parameters). */
  /**
   * As the bot: a monthly Stars subscription link ("sub:monthly", 100 ⭐) sent to {@code user} as
   * "Подписка на месяц" with an "Оформить" button and {@code other} as a second button.
   */
  void offerSubscription(long user, Map<String, Object> other) {
    String link =
        asBot(
                "createInvoiceLink",
                Map.of(
                    "title", "Подписка",
                    "description", "Месяц",
                    "payload", "sub:monthly",
                    "currency", "XTR",
                    "prices", List.of(Map.of("label", "Месяц", "amount", 100)),
                    "subscription_period", 2_592_000))
            .asText();
    asBot(
        "sendMessage",
        Map.of(
            "chat_id", user,
            "text", "Подписка на месяц",
            "reply_markup",
            Map.of(
                "inline_keyboard",
                List.of(List.of(Map.of("text", "Оформить", "url", link), other)))));
  }

  JsonNode asBot(String method, Map<String, Object> parameters) {
    try {
      HttpResponse<String> r =
          send(
              HttpRequest.newBuilder(
                      URI.create(sandbox.bot().baseUrl() + "/bot" + Sandbox.TOKEN + "/" + method))
                  .timeout(WAIT)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(parameters))));
      JsonNode body = json(r.body());
      if (!body.path("ok").asBoolean()) {
        throw new AssertionError(method + " as the bot failed: " + r.body());
      }
      return body.path("result");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(request.build().uri() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  @Override
  public void close() {
    sandbox.close();
  }
}
