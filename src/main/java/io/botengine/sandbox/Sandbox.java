package io.botengine.sandbox;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.botengine.Engine;
import io.botengine.EngineSettings;
import io.botengine.Main;
import io.botengine.job.RunnerJobs;
import io.botengine.webapp.InitData;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The local sandbox, started when no Telegram token is set: the Bot API emulator and the Runner
 * emulator on loopback ports (in an actor system of their own, as if they were remote), a real
 * engine on embedded H2 wired to them, and the chat page ({@link SandboxRoutes}) on the engine's
 * HTTP port. Lives until {@link #close()} or the engine's system terminates.
 */
public final class Sandbox implements AutoCloseable {
  static final String TOKEN = "100000:sandbox";
  static final String RUNNER_KEY = "sandbox-runner-key";

  /** The seed 001 sequence at a pace a person can follow. */
  static final RunnerScenario DEFAULT_SCENARIO =
      RunnerScenario.SEED_001.withPacing(Duration.ofMillis(1200));

  private final ActorSystem<Void> emulators;
  private final BotApiEmulator bot;
  private final RunnerEmulator runner;
  private final Engine engine;
  private final int port;

  private Sandbox(
      ActorSystem<Void> emulators,
      BotApiEmulator bot,
      RunnerEmulator runner,
      Engine engine,
      int port) {
    this.emulators = emulators;
    this.bot = bot;
    this.runner = runner;
    this.engine = engine;
    this.port = port;
  }

  /** Starts emulators, engine and chat page; prints where to open the page. */
  public static Sandbox start(Config config) {
    ActorSystem<Void> emulators =
        ActorSystem.create(
            Behaviors.empty(),
            "sandbox",
            ConfigFactory.parseString(
                    "akka.actor.provider = local\nakka.remote.artery.enabled = off\n"
                        + "akka.coordinated-shutdown.exit-jvm = off")
                .withFallback(config));
    BotApiEmulator bot = BotApiEmulator.start(emulators, "127.0.0.1", 0, TOKEN);
    RunnerEmulator runner = RunnerEmulator.start(emulators, "127.0.0.1", 0, RUNNER_KEY);
    runner.nextScenario(DEFAULT_SCENARIO);
    ChatFeed feed = new ChatFeed();
    bot.onSent(feed::botSent);
    bot.onPayment(feed::userPaid);
    // The sandbox API has no login: it listens on loopback unless HTTP_HOST says otherwise.
    String host = System.getenv("HTTP_HOST") == null ? "127.0.0.1" : config.getString("bot.http.host");
    Config engineConfig =
        ConfigFactory.parseMap(
                Map.of(
                    "bot.http.host",
                    host,
                    "bot.telegram.token",
                    TOKEN,
                    "bot.telegram.api-url",
                    bot.baseUrl(),
                    "bot.telegram.mode",
                    "polling",
                    "bot.runner.url",
                    runner.baseUrl(),
                    "bot.runner.api-key",
                    RUNNER_KEY))
            .withFallback(config);
    EngineSettings settings = EngineSettings.from(engineConfig);
    Engine engine =
        Engine.start(
            engineConfig,
            RunnerJobs::new,
            system ->
                new SandboxRoutes(
                        system,
                        bot,
                        runner,
                        feed,
                        settings.askTimeout(),
                        settings.billing().cvCost(),
                        Sandbox::initData)
                    .route());
    engine.system().getWhenTerminated().thenRun(emulators::terminate);
    int port = engine.httpPort(Duration.ofSeconds(30));
    Main.announce(settings, String.format(
        "Sandbox is up: open http://localhost:%d/ to chat with the bot (no TELEGRAM_BOT_TOKEN"
            + " set; Bot API emulator at %s, Runner emulator at %s)",
        port, bot.baseUrl(), runner.baseUrl()));
    return new Sandbox(emulators, bot, runner, engine, port);
  }

  /**
   * The Mini App {@code initData} Telegram would give the user, signed with the sandbox bot's
   * token: the chat page sends it to the engine's public {@code GET /webapp/api/events}.
   */
  static String initData(long user) {
    TreeMap<String, String> fields = new TreeMap<>();
    fields.put("user", "{\"id\":" + user + ",\"first_name\":\"Sandbox\"}");
    fields.put("auth_date", Long.toString(Instant.now().getEpochSecond()));
    return InitData.sign(TOKEN, fields);
  }

  /** The engine's HTTP port, where the chat page is. */
  public int port() {
    return port;
  }

  public BotApiEmulator bot() {
    return bot;
  }

  public RunnerEmulator runner() {
    return runner;
  }

  public Engine engine() {
    return engine;
  }

  /** Stops the engine, then the emulators (whose servers go with their system); waits for both. */
  @Override
  public void close() {
    engine.close();
    emulators.terminate();
    try {
      emulators.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("sandbox emulators did not stop in 30 s", e);
    }
  }
}
