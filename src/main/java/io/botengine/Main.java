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

  private static void fail(int code, String line) {
    System.err.println(line);
    System.exit(code);
  }
}
