package io.botengine.sandbox;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.botengine.Engine;
import io.botengine.job.RunnerJobs;
import java.time.Duration;
import java.util.Map;

/**
 * The local sandbox, started when no Telegram token is set: the Bot API emulator and the Runner
 * emulator on loopback ports (in an actor system of their own, as if they were remote), and a real
 * engine on embedded H2 wired to them.
 */
public final class Sandbox {
  static final String TOKEN = "100000:sandbox";
  static final String RUNNER_KEY = "sandbox-runner-key";
  /** The seed 001 sequence at a pace a person can follow. */
  static final RunnerScenario DEFAULT_SCENARIO =
      RunnerScenario.SEED_001.withPacing(Duration.ofMillis(1200));

  private Sandbox() {}

  /** Starts emulators and engine; prints where to look. The process runs until stopped. */
  public static void start(Config config) {
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
    Config engineConfig =
        ConfigFactory.parseMap(
                Map.of(
                    "bot.telegram.token", TOKEN,
                    "bot.telegram.api-url", bot.baseUrl(),
                    "bot.telegram.mode", "polling",
                    "bot.runner.url", runner.baseUrl(),
                    "bot.runner.api-key", RUNNER_KEY))
            .withFallback(config);
    Engine engine = Engine.start(engineConfig, RunnerJobs::new);
    engine.system().getWhenTerminated().thenRun(emulators::terminate);
    int port = engine.httpPort(Duration.ofSeconds(30));
    System.out.printf(
        "Sandbox is up (no TELEGRAM_BOT_TOKEN set): engine HTTP on port %d, "
            + "Bot API emulator at %s, Runner emulator at %s%n",
        port, bot.baseUrl(), runner.baseUrl());
  }
}
