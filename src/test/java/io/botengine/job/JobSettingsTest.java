package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The job side's settings come from the configuration once, as operators set them. */
class JobSettingsTest {
  private static Config with(String overrides) {
    return ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.load("application-test.conf"));
  }

  @Test
  void readsTheJobAndDeliverySettingsOnce() {
    JobSettings s = JobSettings.fromConfig(with(
        "bot.jobs.reorder-buffer = 7, bot.jobs.gap-timeout = 3s, bot.ask-timeout = 4s"));
    assertEquals(7, s.reorderBuffer());
    assertEquals(Duration.ofSeconds(3), s.gapTimeout());
    assertEquals(Duration.ofSeconds(4), s.askTimeout());
  }

  @Test
  void usersOfARemovedNodeMoveAfterTheSplitBrainResolversStableAfterUnlessAMarginIsSet() {
    assertEquals(Duration.ofSeconds(9), JobSettings.fromConfig(with(
        "akka.cluster.split-brain-resolver.stable-after = 9s,"
            + " akka.cluster.down-removal-margin = off")).removalMargin());
    assertEquals(Duration.ofSeconds(2), JobSettings.fromConfig(with(
        "akka.cluster.down-removal-margin = 2s")).removalMargin());
    assertEquals(Duration.ZERO, JobSettings.fromConfig(with(
        "akka.cluster.down-removal-margin = off, akka.cluster.downing-provider-class = \"\""))
        .removalMargin());
  }
}
