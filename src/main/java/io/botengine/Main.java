package io.botengine;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import ch.qos.logback.classic.LoggerContext;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.botengine.job.RunnerJobs;
import io.botengine.sandbox.Sandbox;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * Starts one engine node from the configuration ({@code conf/application.conf} in the jar, or
 * {@code -Dconfig.file=...}). Without a Telegram token it starts the local sandbox instead. A
 * start-up failure prints one line saying what to fix and exits non-zero (2: a setting, or a port
 * in use; 3: the database; 4: anything else); a stop by SIGTERM that completes exits 0.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    keepAsyncCallbacksOnAPool();
    try {
      Config config = ConfigFactory.load();
      EngineSettings settings = EngineSettings.from(config);
      if (settings.telegram().sandbox()) {
        exitZeroAfterGracefulStop(Sandbox.start(config).engine().system());
        return;
      }
      Engine engine = Engine.start(config, RunnerJobs::new);
      int port = engine.httpPort(Duration.ofSeconds(30));
      announce(settings, String.format(
          "bot-engine is up: %s mode, HTTP on port %d (health: /health/ready)",
          settings.telegram().mode().name().toLowerCase(), port));
      exitZeroAfterGracefulStop(engine.system());
    } catch (EngineSettings.SettingsException e) {
      fail(2, "Configuration error: " + e.getMessage());
    } catch (ConfigException e) {
      fail(2, "Configuration error: " + e.getMessage());
    } catch (JournalSchema.Unavailable e) {
      fail(3, "Database error: " + e.getMessage());
    } catch (RuntimeException e) {
      fail(4, "Start-up error: " + firstLine(e));
    }
  }

  /**
   * A SIGTERM runs coordinated shutdown from Akka's JVM shutdown hook, after which the JVM would
   * exit with 143. A hook of our own waits for that shutdown to stop the node and then exits 0:
   * the stop was asked for and went through. Logback is stopped first so that its queued lines are
   * written.
   */
  static void exitZeroAfterGracefulStop(ActorSystem<?> system) {
    Thread hook = new Thread(() -> {
      try {
        system.getWhenTerminated().toCompletableFuture().get(2, TimeUnit.MINUTES);
      } catch (Exception e) {
        return;
      }
      boolean asked = CoordinatedShutdown.get(system).getShutdownReason()
          .map(reason -> reason == CoordinatedShutdown.jvmExitReason())
          .orElse(false);
      if (asked && !failing) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
          logback.stop();
        }
        System.out.flush();
        Runtime.getRuntime().halt(0);
      }
    }, "exit-0-after-graceful-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * The one line that says the node is up: printed as is, or with {@code LOG_FORMAT=json} logged,
   * so that standard output stays one JSON object per line.
   */
  public static void announce(EngineSettings settings, String line) {
    if (settings.ops().logFormat().equals("json")) {
      LoggerFactory.getLogger(Main.class).info(line);
    } else {
      System.out.println(line);
    }
  }

  private static String firstLine(Throwable e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return message.lines().findFirst().orElse(message);
  }

  /**
   * Call first in a main method. On a machine with 2 cores or fewer the JDK's common pool has a
   * parallelism of 1, and {@code CompletableFuture} then runs every async callback on a new thread
   * of its own. Akka's Java API converts its Scala futures into such futures, so every {@code
   * context.ask} answer and every {@code pipeToSelf} of an Akka result started a thread: one per
   * output delivered (the benchmark's scenario (a) measured 56,000 thread starts, a fifth of the
   * engine's CPU). A parallelism of 2 keeps them on the pool. An explicit setting is left alone.
   */
  public static void keepAsyncCallbacksOnAPool() {
    String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(key) == null && Runtime.getRuntime().availableProcessors() <= 2) {
      System.setProperty(key, "2");
    }
  }

  private static volatile boolean failing;

  private static void fail(int code, String line) {
    failing = true;
    System.err.println(LogSafe.mask(line));
    System.exit(code);
  }
}
