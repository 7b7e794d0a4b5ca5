package io.botengine.job;

import io.botengine.Metrics;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * When each output of one job arrived from the Runner, until Telegram accepted it: feeds {@code
 * botengine_outputs_delivered_total} and {@code botengine_output_latency_seconds}. Owned by one
 * task actor; an index is counted once, however often its delivery is reported.
 */
final class OutputTiming {
  private final Metrics metrics;
  private final Map<Long, Long> arrivedAt = new HashMap<>();

  OutputTiming(Metrics metrics) {
    this.metrics = metrics;
  }

  void received(long index) {
    arrivedAt.putIfAbsent(index, System.nanoTime());
  }

  void delivered(long index) {
    Long at = arrivedAt.remove(index);
    if (at != null) {
      metrics.outputDelivered(Duration.ofNanos(System.nanoTime() - at));
    }
    arrivedAt.keySet().removeIf(i -> i < index);
  }
}
