package io.botengine.testing;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.botengine.Engine;
import io.botengine.job.RunnerJobs;
import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.RunnerEmulator;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Real parts for end-to-end tests: the Bot API emulator and the Runner emulator in their own actor
 * system (they outlive engine restarts), and engines started on a journal file of their own, all
 * talking over loopback sockets.
 */
public final class EngineHarness implements AutoCloseable {
  public static final String TOKEN = "123456:test-token";
  public static final String RUNNER_KEY = "runner-secret";
  public static final String ADMIN_TOKEN = "admin-secret";
  public static final Duration WAIT = Duration.ofSeconds(20);

  private final ActorSystem<Void> emulators;
  public final BotApiEmulator bot;
  public final RunnerEmulator runner;
  private final Path journalDir;
  private final HttpClient http = HttpClient.newHttpClient();
  private Engine engine;
  private int httpPort;

  public EngineHarness() {
    emulators = ActorSystem.create(Behaviors.empty(), "emulators",
        ConfigFactory.parseString("akka.actor.provider = local\nakka.remote.artery.enabled = off")
            .withFallback(ConfigFactory.load("application-test.conf")));
    bot = BotApiEmulator.start(emulators, "127.0.0.1", 0, TOKEN);
    runner = RunnerEmulator.start(emulators, "127.0.0.1", 0, RUNNER_KEY);
    journalDir = Path.of("target", "journals", UUID.randomUUID().toString());
  }

  /** The settings of an engine wired to the emulators; {@code overrides} win. */
  public Config config(Map<String, Object> overrides) {
    Map<String, Object> values = new HashMap<>();
    values.put("bot.telegram.token", TOKEN);
    values.put("bot.telegram.api-url", bot.baseUrl());
    values.put("bot.telegram.polling.timeout", "2s");
    values.put("bot.telegram.polling.min-backoff", "100ms");
    values.put("bot.runner.url", runner.baseUrl());
    values.put("bot.runner.api-key", RUNNER_KEY);
    values.put("bot.runner.stream-min-backoff", "50ms");
    values.put("bot.runner.stream-max-backoff", "200ms");
    values.put("bot.admin.api-token", ADMIN_TOKEN);
    // Functional tests run the limiters with room to spare; delivery tests set Telegram's limits.
    values.put("bot.telegram.delivery.global-rate", 2000);
    values.put("bot.telegram.delivery.chat-rate", 200);
    values.put("bot.telegram.delivery.chat-burst", 20);
    values.put("bot.telegram.delivery.min-backoff", "50ms");
    values.put("bot.telegram.delivery.max-backoff", "200ms");
    values.put("bot.telegram.delivery.progress-interval", "300ms");
    values.put("bot.persistence.jdbc-url",
        "jdbc:h2:file:" + journalDir.toAbsolutePath().resolve("journal"));
    values.put("akka.persistence.journal.plugin", "jdbc-journal");
    values.put("akka.persistence.snapshot-store.plugin", "jdbc-snapshot-store");
    values.putAll(overrides);
    return ConfigFactory.load(
        ConfigFactory.parseMap(values)
            .withFallback(ConfigFactory.parseResourcesAnySyntax("application-test.conf")));
  }

  /** Starts an engine (polling mode unless overridden) and waits for its HTTP server. */
  public Engine start(Map<String, Object> overrides) {
    engine = Engine.start(config(overrides), RunnerJobs::new);
    httpPort = engine.httpPort(WAIT);
    return engine;
  }

  public Engine start() {
    return start(Map.of());
  }

  /** Stops the running engine (coordinated shutdown) and waits for it. */
  public void stopEngine() {
    if (engine != null) {
      engine.close();
      engine = null;
    }
  }

  /**
   * Settings for an engine that {@link #crashEngine} may kill: the actor system's termination runs
   * no coordinated shutdown. The next engine takes over the killed one's leases once they expire
   * ({@code bot.lease.heartbeat-timeout}, 6 s).
   */
  public static final Map<String, Object> CRASHABLE =
      Map.of("akka.coordinated-shutdown.run-by-actor-system-terminate", "off");

  /**
   * Stops the engine as a killed process stops: no coordinated shutdown, nothing handed over, its
   * leases neither renewed nor released. Start it with {@link #CRASHABLE}.
   */
  public void crashEngine() {
    ClusterHarness.kill(engine.system());
    engine = null;
  }

  public int httpPort() {
    return httpPort;
  }

  /** An HTTP call to the engine; returns status and body. */
  public HttpResponse<String> call(String method, String path, String body, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .timeout(WAIT)
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(method + " " + path + " failed", e);
    }
  }

  /** Retries {@code assertion} until it passes or {@link #WAIT} is over (Akka's awaitAssert). */
  public void awaitAssert(Runnable assertion) {
    TestProbe.<Object>create(emulators).awaitAssert(WAIT, () -> {
      assertion.run();
      return null;
    });
  }

  /** True for what a user reads: texts and documents, not typing, edits or the status message. */
  public static boolean isMessage(BotApiEmulator.Sent s) {
    return s.method().equals("sendDocument")
        || s.method().equals("sendMessage") && !isStatus(s.text());
  }

  /** The progress status message: "⏳ ▓▓▓░░░░░░░ 30%...". */
  public static boolean isStatus(String text) {
    return text != null && text.matches("(?s)⏳ [▓░]{10} \\d+%.*");
  }

  /** The messages a user has read so far, in order. */
  public List<BotApiEmulator.Sent> messages(long chatId) {
    return bot.sentTo(chatId).stream().filter(EngineHarness::isMessage).toList();
  }

  /** Waits until the user has read at least {@code count} messages; returns them all. */
  public List<BotApiEmulator.Sent> awaitMessages(long chatId, int count) {
    return awaitMessages(chatId, count, WAIT);
  }

  /** As {@link #awaitMessages(long, int)}, waiting at most {@code max}. */
  public List<BotApiEmulator.Sent> awaitMessages(long chatId, int count, Duration max) {
    TestProbe.<Object>create(emulators).awaitAssert(max, () -> {
      List<BotApiEmulator.Sent> got = messages(chatId);
      if (got.size() < count) {
        throw new AssertionError("chat " + chatId + ": expected " + count + " messages, got "
            + got.stream().map(m -> m.method() + ":" + (m.text() != null ? m.text() : m.fileName()))
                .toList());
      }
      return null;
    });
    return messages(chatId);
  }

  /** An admin API call with the right bearer token. */
  public HttpResponse<String> admin(String method, String path, String body) {
    return call(method, path, body, "Authorization", "Bearer " + ADMIN_TOKEN,
        "Content-Type", "application/json");
  }

  @Override
  public void close() {
    stopEngine();
    bot.close();
    runner.close();
    emulators.terminate();
  }
}
