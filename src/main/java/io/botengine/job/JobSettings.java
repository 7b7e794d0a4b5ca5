package io.botengine.job;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * What the job side reads from the configuration, once at start ({@code EngineSettings} has
 * checked every value before the actor system started): the registry's wake interval and how long
 * after a node's removal its users may move, the task actor's reorder window and gap timeout, its
 * typing and progress intervals, the ask timeout, and how streamed outputs are previewed
 * ({@code bot.streaming}).
 */
public record JobSettings(
    Duration wakeInterval,
    Duration removalMargin,
    int reorderBuffer,
    Duration gapTimeout,
    Duration typingInterval,
    Duration progressInterval,
    Duration askTimeout,
    LivePreview.Settings preview) {

  /** Read from the root configuration ({@code bot.jobs}, delivery intervals, cluster downing). */
  public static JobSettings fromConfig(Config root) {
    Config jobs = root.getConfig("bot.jobs");
    return new JobSettings(
        jobs.getDuration("wake-interval"),
        removalMargin(root),
        jobs.getInt("reorder-buffer"),
        jobs.getDuration("gap-timeout"),
        root.getDuration("bot.telegram.delivery.typing-interval"),
        root.getDuration("bot.telegram.delivery.progress-interval"),
        root.getDuration("bot.ask-timeout"),
        preview(root));
  }

  /** {@code bot.streaming}; off when the configuration has none (tests with their own config). */
  static LivePreview.Settings preview(Config root) {
    if (!root.hasPath("bot.streaming")) {
      return LivePreview.Settings.OFF;
    }
    Config streaming = root.getConfig("bot.streaming");
    return new LivePreview.Settings(
        LivePreview.Mode.of(streaming.getString("mode")),
        streaming.getDuration("preview-interval"),
        streaming.getDuration("edit-interval"),
        streaming.getDuration("draft-refresh"));
  }

  /**
   * How long after a node is removed sharding waits before it starts that node's shards elsewhere
   * ({@code akka.cluster.down-removal-margin}, which the Split Brain Resolver sets to its
   * {@code stable-after} when left off).
   */
  static Duration removalMargin(Config config) {
    if (!"off".equals(config.getString("akka.cluster.down-removal-margin"))) {
      return config.getDuration("akka.cluster.down-removal-margin");
    }
    String downing = config.getString("akka.cluster.downing-provider-class");
    return downing.endsWith("SplitBrainResolverProvider")
        ? config.getDuration("akka.cluster.split-brain-resolver.stable-after")
        : Duration.ZERO;
  }
}
