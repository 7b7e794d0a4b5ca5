package io.botengine.job;

import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import io.botengine.Backoff;
import io.botengine.LogSafe;
import java.time.Duration;

/**
 * The Runner client's settings, read from {@code bot.runner} (conf/runner.conf documents each).
 * {@code requestPool} overrides {@code akka.http.host-connection-pool} for the short calls, {@code
 * streamConnection} overrides {@code akka.http.client} for the event streams' own connections.
 * {@link #toString()} never shows the API key nor credentials in the URL.
 */
public record RunnerSettings(
    String url,
    String apiKey,
    Duration uploadTimeout,
    Duration requestTimeout,
    Duration streamIdleTimeout,
    Duration streamMinBackoff,
    Duration streamMaxBackoff,
    double streamBackoffRandomFactor,
    int streamMaxFailures,
    int maxFrameSize,
    Duration pollInterval,
    Duration pollMaxDuration,
    Config requestPool,
    Config streamConnection) {

  public RunnerSettings {
    url = url.strip();
    while (url.endsWith("/")) {
      url = url.substring(0, url.length() - 1);
    }
    require(streamMaxFailures >= 1, "stream-max-failures must be >= 1");
    require(!streamMinBackoff.isNegative(), "stream-min-backoff must be >= 0");
    require(streamMaxBackoff.compareTo(streamMinBackoff) >= 0, "stream-max-backoff < min-backoff");
    require(streamBackoffRandomFactor >= 0, "stream-backoff-random-factor must be >= 0");
    require(streamIdleTimeout.compareTo(Duration.ZERO) > 0, "stream-idle-timeout must be > 0");
    require(pollInterval.compareTo(Duration.ZERO) > 0, "poll-interval must be > 0");
    require(maxFrameSize >= 4096, "max-frame-size must be >= 4096");
  }

  /** The pause before reconnecting a stream, after n consecutive failed attempts. */
  public Backoff streamBackoff() {
    return new Backoff(streamMinBackoff, streamMaxBackoff, streamBackoffRandomFactor);
  }

  /** Reads {@code bot.runner} from the system's configuration. */
  public static RunnerSettings create(ActorSystem<?> system) {
    return fromConfig(system.settings().config().getConfig("bot.runner"));
  }

  /** Reads the settings from a {@code bot.runner} block. */
  public static RunnerSettings fromConfig(Config c) {
    return new RunnerSettings(
        c.getString("url"),
        c.getString("api-key"),
        c.getDuration("upload-timeout"),
        c.getDuration("request-timeout"),
        c.getDuration("stream-idle-timeout"),
        c.getDuration("stream-min-backoff"),
        c.getDuration("stream-max-backoff"),
        c.getDouble("stream-backoff-random-factor"),
        c.getInt("stream-max-failures"),
        c.getInt("max-frame-size"),
        c.getDuration("poll-interval"),
        c.getDuration("poll-max-duration"),
        c.getConfig("request-pool"),
        c.getConfig("stream-connection"));
  }

  /** The same settings for another Runner (the sandbox points the client at its emulator). */
  public RunnerSettings withUrl(String newUrl) {
    return new RunnerSettings(
        newUrl,
        apiKey,
        uploadTimeout,
        requestTimeout,
        streamIdleTimeout,
        streamMinBackoff,
        streamMaxBackoff,
        streamBackoffRandomFactor,
        streamMaxFailures,
        maxFrameSize,
        pollInterval,
        pollMaxDuration,
        requestPool,
        streamConnection);
  }

  /** The same settings with another API key. */
  public RunnerSettings withApiKey(String newApiKey) {
    return new RunnerSettings(
        url,
        newApiKey,
        uploadTimeout,
        requestTimeout,
        streamIdleTimeout,
        streamMinBackoff,
        streamMaxBackoff,
        streamBackoffRandomFactor,
        streamMaxFailures,
        maxFrameSize,
        pollInterval,
        pollMaxDuration,
        requestPool,
        streamConnection);
  }

  @Override
  public String toString() {
    return "RunnerSettings[url="
        + LogSafe.url(url)
        + ", apiKey="
        + (apiKey.isEmpty() ? "<unset>" : "<set>")
        + ", uploadTimeout="
        + uploadTimeout
        + ", requestTimeout="
        + requestTimeout
        + ", streamIdleTimeout="
        + streamIdleTimeout
        + ", streamBackoff="
        + streamMinBackoff
        + ".."
        + streamMaxBackoff
        + ", streamMaxFailures="
        + streamMaxFailures
        + ", maxFrameSize="
        + maxFrameSize
        + ", poll="
        + pollInterval
        + " for "
        + pollMaxDuration
        + "]";
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException("bot.runner: " + message);
    }
  }
}
