package io.botengine.user;

import io.botengine.Metrics;
import java.util.Locale;

/** What a user's persisted job events add to this node's {@link Metrics}. */
final class JobMetrics {
  private JobMetrics() {}

  static void record(Metrics metrics, UserEntity.Event event) {
    if (event instanceof UserEntity.JobStarted) {
      metrics.jobStarted();
    } else if (event instanceof UserEntity.JobSucceeded s) {
      metrics.jobFinished("succeeded");
      metrics.tokensCharged(s.charged());
    } else if (event instanceof UserEntity.JobEnded e) {
      metrics.jobFinished(e.outcome().name().toLowerCase(Locale.ROOT));
    }
  }
}
