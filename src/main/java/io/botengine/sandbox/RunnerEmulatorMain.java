package io.botengine.sandbox;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;

/**
 * The Runner emulator as a process of its own, for engines that run as separate processes or
 * containers ({@code docker/docker-compose.yml}):
 * {@code java -cp bot-engine.jar io.botengine.sandbox.RunnerEmulatorMain}. Every job plays the
 * seed 001 sequence at {@code RUNNER_EMULATOR_PACING_MS} between frames. Environment:
 * {@code RUNNER_API_KEY} (required), {@code RUNNER_EMULATOR_HOST} (0.0.0.0),
 * {@code RUNNER_EMULATOR_PORT} (8090), {@code RUNNER_EMULATOR_PACING_MS} (1200). Stops on SIGTERM.
 */
public final class RunnerEmulatorMain {
  private RunnerEmulatorMain() {}

  public static void main(String[] args) {
    String key = env("RUNNER_API_KEY", "");
    if (key.isBlank()) {
      System.err.println("Configuration error: RUNNER_API_KEY is missing (the key engines send)");
      System.exit(2);
    }
    ActorSystem<Void> system = emulatorSystem("runner-emulator");
    RunnerEmulator runner =
        RunnerEmulator.start(system, env("RUNNER_EMULATOR_HOST", "0.0.0.0"),
            intEnv("RUNNER_EMULATOR_PORT", 8090), key);
    runner.nextScenario(scenario());
    System.out.printf("Runner emulator is up at %s%n", runner.baseUrl());
  }

  /** A local (non-cluster) actor system for emulators, stopped by SIGTERM. */
  static ActorSystem<Void> emulatorSystem(String name) {
    return ActorSystem.create(
        Behaviors.empty(),
        name,
        ConfigFactory.parseString(
                "akka.actor.provider = local\nakka.remote.artery.enabled = off\n"
                    + "akka.coordinated-shutdown.exit-jvm = on")
            .withFallback(ConfigFactory.load()));
  }

  /** The seed 001 sequence at the pace of {@code RUNNER_EMULATOR_PACING_MS}. */
  static RunnerScenario scenario() {
    return RunnerScenario.SEED_001.withPacing(
        Duration.ofMillis(intEnv("RUNNER_EMULATOR_PACING_MS", 1200)));
  }

  static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  static int intEnv(String name, int fallback) {
    String value = env(name, Integer.toString(fallback));
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      System.err.println("Configuration error: " + name + " must be a whole number, got '"
          + value + "'");
      System.exit(2);
      return fallback;
    }
  }
}
