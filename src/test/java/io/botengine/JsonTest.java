package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The routes' shared JSON body directive and marshalling, over a real socket. */
class JsonTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final HttpClient client = HttpClient.newHttpClient();
  private static ServerBinding binding;

  record Sample(String someField, Instant at) {}

  @BeforeAll
  static void bind() throws Exception {
    Route route =
        Directives.concat(
            Directives.path("echo", () -> Directives.post(() -> Json.object(
                body -> Json.complete(StatusCodes.OK, body)))),
            Directives.path("sample", () -> Json.complete(StatusCodes.CREATED,
                new Sample("x", Instant.parse("2027-01-01T00:00:00Z")))));
    binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .bind(route)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void readsABodyAsJsonWhateverItsContentType() throws Exception {
    HttpResponse<String> form = post("{\"amount\": 5}", "application/x-www-form-urlencoded");
    assertEquals(200, form.statusCode());
    assertEquals("{\"amount\":5}", form.body());
    assertEquals("application/json", form.headers().firstValue("Content-Type").orElse(""));
  }

  @Test
  void refusesWhatIsNotAJsonObject() throws Exception {
    HttpResponse<String> notJson = post("not json", "application/json");
    assertEquals(400, notJson.statusCode());
    assertEquals("{\"error\":\"body must be JSON\"}", notJson.body());
    HttpResponse<String> array = post("[1, 2]", "application/json");
    assertEquals(400, array.statusCode());
    assertEquals("{\"error\":\"body must be a JSON object\"}", array.body());
  }

  @Test
  void writesSnakeCaseNamesAndIsoInstants() throws Exception {
    HttpResponse<String> sample =
        client.send(
            HttpRequest.newBuilder(uri("sample")).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(201, sample.statusCode());
    assertEquals("{\"some_field\":\"x\",\"at\":\"2027-01-01T00:00:00Z\"}", sample.body());
  }

  private static HttpResponse<String> post(String body, String contentType) throws Exception {
    return client.send(
        HttpRequest.newBuilder(uri("echo"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/" + path);
  }
}
