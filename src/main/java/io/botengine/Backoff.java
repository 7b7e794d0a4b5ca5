package io.botengine;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long to wait before the next try: {@code min × 2^n}, at most {@code max}, then stretched by
 * up to {@code randomFactor} (0.2: up to 20 % longer) so that many callers do not retry in step.
 * The same rule as Akka's {@code BackoffSupervisor} and {@code RestartSettings}; used where the
 * retry is a message or a reconnection of our own rather than a restarted actor or stream.
 */
public record Backoff(Duration min, Duration max, double randomFactor) {
  private static final int MAX_DOUBLINGS = 30;

  public Backoff {
    if (min.isNegative() || max.compareTo(min) < 0 || randomFactor < 0) {
      throw new IllegalArgumentException(
          "backoff needs 0 <= min <= max and randomFactor >= 0: " + min + ", " + max + ", "
              + randomFactor);
    }
  }

  /** A backoff without randomness. */
  public static Backoff of(Duration min, Duration max) {
    return new Backoff(min, max, 0);
  }

  /** The wait after {@code n} consecutive failures: {@code min} for 0, doubling with each. */
  public Duration delay(int n) {
    double base =
        Math.min(
            max.toMillis(), min.toMillis() * Math.pow(2, Math.max(0, Math.min(n, MAX_DOUBLINGS))));
    double stretch =
        randomFactor == 0 ? 1 : 1 + ThreadLocalRandom.current().nextDouble() * randomFactor;
    return Duration.ofMillis((long) (base * stretch));
  }
}
