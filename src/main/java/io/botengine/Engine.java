package io.botengine;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Route;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.botengine.job.JobLauncher;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One running node: validated settings, the journal schema, and the actor system with its
 * {@link Guardian}. Used by {@link Main} and by tests that start real engines.
 */
public final class Engine implements AutoCloseable {
  private final ActorSystem<Void> system;
  private final EngineSettings settings;
  private final CompletableFuture<ServerBinding> bound;

  private Engine(ActorSystem<Void> system, EngineSettings settings,
      CompletableFuture<ServerBinding> bound) {
    this.system = system;
    this.settings = settings;
    this.bound = bound;
  }

  /**
   * Validates {@code config}, checks that its ports are free, prepares the journal, and starts the
   * node. Throws {@link EngineSettings.SettingsException} or {@link JournalSchema.Unavailable} with
   * a one-line reason.
   */
  public static Engine start(Config config, JobLauncher.Factory jobs) {
    return start(config, jobs, system -> null);
  }

  /** As {@link #start(Config, JobLauncher.Factory)}, with extra HTTP routes served on the engine's port. */
  public static Engine start(
      Config config,
      JobLauncher.Factory jobs,
      Function<ActorSystem<?>, Route> extraRoutes) {
    EngineSettings settings = EngineSettings.from(config);
    LogSafe.secret(settings.telegram().token());
    LogSafe.secret(settings.telegram().webhookSecret());
    LogSafe.secret(settings.adminToken());
    LogSafe.secret(settings.ops().metricsToken());
    LogSafe.secret(settings.persistence().password());
    LogSafe.secret(config.getString("bot.runner.api-key"));
    Ports.checkBindable(settings);
    if (settings.persistence().createSchema()) {
      JournalSchema.apply(settings.persistence());
    } else {
      JournalSchema.checkLeaseTable(settings.persistence());
    }
    CompletableFuture<ServerBinding> bound = new CompletableFuture<>();
    ActorSystem<Void> system =
        ActorSystem.create(
            Guardian.create(settings, jobs, extraRoutes, bound),
            settings.cluster().systemName(),
            akkaConfig(settings).withFallback(config));
    return new Engine(system, settings, bound);
  }

  /** The Akka settings that follow from the engine's own. */
  static Config akkaConfig(EngineSettings settings) {
    EngineSettings.Dialect dialect = settings.persistence().dialect();
    Map<String, Object> values = new HashMap<>();
    values.put("akka-persistence-jdbc.shared-databases.default.profile", dialect.slickProfile);
    values.put("akka-persistence-jdbc.shared-databases.default.db.driver", dialect.driver);
    values.put("akka-persistence-jdbc.shared-databases.default.db.url",
        settings.persistence().jdbcUrl());
    return ConfigFactory.parseMap(values)
        .withValue("akka.cluster.seed-nodes", ConfigValueFactory.fromIterable(java.util.List.of()));
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public EngineSettings settings() {
    return settings;
  }

  /** Waits (at most {@code timeout}) for the HTTP server and returns its port. */
  public int httpPort(Duration timeout) {
    try {
      return bound.get(timeout.toMillis(), TimeUnit.MILLISECONDS).localAddress().getPort();
    } catch (Exception e) {
      throw new IllegalStateException("HTTP server did not start: " + e.getMessage(), e);
    }
  }

  /**
   * Runs coordinated shutdown (the HTTP server unbinds, this node's users are handed over to the
   * other nodes, the node leaves the cluster) and waits for the system to stop. Run explicitly, so
   * that it happens even where {@code akka.coordinated-shutdown.run-by-actor-system-terminate} is
   * off.
   */
  @Override
  public void close() {
    CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason());
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("engine did not stop in 30 s", e);
    }
  }
}
