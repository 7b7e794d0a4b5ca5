package io.botengine.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Send rates measured from the Bot API emulator's timestamps. */
public final class Rates {
  private Rates() {}

  /** The most calls that fall within any window of {@code window}. */
  public static int maxInWindow(List<Instant> times, Duration window) {
    List<Instant> sorted = times.stream().sorted().toList();
    int best = 0;
    int start = 0;
    for (int end = 0; end < sorted.size(); end++) {
      while (Duration.between(sorted.get(start), sorted.get(end)).compareTo(window) >= 0) {
        start++;
      }
      best = Math.max(best, end - start + 1);
    }
    return best;
  }

  /**
   * How far the calls exceed a token bucket of {@code rate}/s and {@code burst}: the largest
   * {@code count - (burst + rate * span)} over all runs of consecutive calls (0 or less: within).
   */
  public static double excessOverBucket(List<Instant> times, double rate, int burst) {
    List<Instant> sorted = times.stream().sorted().toList();
    double worst = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < sorted.size(); i++) {
      for (int j = i; j < sorted.size(); j++) {
        double span = Duration.between(sorted.get(i), sorted.get(j)).toNanos() / 1e9;
        worst = Math.max(worst, (j - i + 1) - (burst + rate * span));
      }
    }
    return worst;
  }
}
