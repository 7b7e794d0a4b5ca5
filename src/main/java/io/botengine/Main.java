package io.botengine;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.botengine.job.RunnerJobs;
import io.botengine.sandbox.Sandbox;
import java.time.Duration;

/**
 * Starts one engine node from the configuration ({@code conf/application.conf} in the jar, or
 * {@code -Dconfig.file=...}). Without a Telegram token it starts the local sandbox instead. A
 * start-up failure prints one line saying what to fix and exits non-zero.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    keepAsyncCallbacksOnAPool();
    try {
      Config config = ConfigFactory.load();
      EngineSettings settings = EngineSettings.from(config);
      if (settings.telegram().sandbox()) {
        Sandbox.start(config);
        return;
      }
      Engine engine = Engine.start(config, RunnerJobs::new);
      int port = engine.httpPort(Duration.ofSeconds(30));
      System.out.printf(
          "bot-engine is up: %s mode, HTTP on port %d (health: /health/ready)%n",
          settings.telegram().mode().name().toLowerCase(), port);
    } catch (EngineSettings.SettingsException e) {
      fail(2, "Configuration error: " + e.getMessage());
    } catch (ConfigException e) {
      fail(2, "Configuration error: " + e.getMessage());
    } catch (JournalSchema.Unavailable e) {
      fail(3, "Database error: " + e.getMessage());
    } catch (IllegalStateException e) {
      fail(4, "Start-up error: " + e.getMessage());
    }
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

  private static void fail(int code, String line) {
    System.err.println(line);
    System.exit(code);
  }
}
