package io.botengine.job;

import java.util.Optional;
import java.util.TreeMap;

/**
 * The delivery order of one job's outputs: each index once, in order, one in flight at a time.
 * Outputs at or below the last delivered index (reconnect replays, duplicates) are refused; outputs
 * ahead of a missing index wait until it arrives or the gap is given up (timed out, more waiting
 * than {@code window}, or the stream ended). An index more than {@code window} past the highest
 * one kept is a Runner fault: it is dropped and counted, never sent, and what follows in the window
 * is still delivered (a consecutive run after a lost stretch is a gap, not a fault). Outputs
 * without an index are numbered by arrival. Not thread-safe: owned by one task actor.
 */
final class ReorderBuffer {
  private static final long NONE = -1;

  /** What became of an offered output. */
  enum Verdict {
    /** Kept, to be delivered in its turn. */
    KEPT,
    /** At or below the last delivered index, in flight or already waiting: dropped. */
    REPEATED,
    /**
     * More than the window ahead of the highest index kept: a Runner fault. Dropped, never sent
     * (not even when a gap is given up), and counted in {@link #dropped()}.
     */
    BEYOND_WINDOW
  }

  /** An offered output's index (assigned when it had none) and what became of it. */
  record Offer(long index, Verdict verdict) {}

  /** The output to send now; {@code skippedFrom} is the first index of the gap it skips, or 0. */
  record Next(long index, RunnerFrame.Output output, long skippedFrom) {
    boolean skipsGap() {
      return skippedFrom > 0;
    }
  }

  private final int window;
  private final TreeMap<Long, RunnerFrame.Output> waiting = new TreeMap<>();
  private long lastDelivered;
  private long arrivals;
  private long inFlight = NONE;
  private boolean gapGivenUp;
  private int dropped;

  /** Resumes after {@code lastDelivered}; at most {@code window} outputs wait for a gap. */
  ReorderBuffer(long lastDelivered, int window) {
    this.window = window;
    this.lastDelivered = lastDelivered;
    this.arrivals = lastDelivered;
  }

  Offer offer(RunnerFrame.Output output) {
    long index = output.index() != null ? output.index() : arrivals + 1;
    if (index <= lastDelivered || index == inFlight || waiting.containsKey(index)) {
      return new Offer(index, Verdict.REPEATED);
    }
    if (index - frontier() > window) {
      dropped++;
      return new Offer(index, Verdict.BEYOND_WINDOW);
    }
    arrivals = Math.max(arrivals, index);
    waiting.put(index, output);
    return new Offer(index, Verdict.KEPT);
  }

  /**
   * Takes the output to send now, if one may go: none while one is in flight; the next index; or,
   * when the gap before the first waiting output is given up ({@link #giveUpGap}, more than the
   * window waiting, or {@code streamEnded}), that one.
   */
  Optional<Next> next(boolean streamEnded) {
    if (inFlight != NONE || waiting.isEmpty()) {
      return Optional.empty();
    }
    long first = waiting.firstKey();
    boolean inOrder = first == lastDelivered + 1;
    if (!inOrder && !gapGivenUp && !streamEnded && waiting.size() <= window) {
      return Optional.empty();
    }
    gapGivenUp = false;
    inFlight = first;
    return Optional.of(new Next(first, waiting.remove(first), inOrder ? 0 : lastDelivered + 1));
  }

  /** The highest index delivered, in flight or waiting: the window reaches {@code window} past it. */
  private long frontier() {
    long highest = Math.max(lastDelivered, inFlight);
    return waiting.isEmpty() ? highest : Math.max(highest, waiting.lastKey());
  }

  /** The output in flight reached the user and its index was recorded. */
  void delivered(long index) {
    lastDelivered = Math.max(lastDelivered, index);
    if (inFlight == index) {
      inFlight = NONE;
    }
  }

  /** The gap before the first waiting output waited long enough: the next {@link #next} skips it. */
  void giveUpGap() {
    gapGivenUp = true;
  }

  /** The index of the output in flight; only while {@link #inFlight()}. */
  long inFlightIndex() {
    return inFlight;
  }

  boolean inFlight() {
    return inFlight != NONE;
  }

  /** No output has arrived that is neither delivered nor in flight. */
  boolean nothingWaiting() {
    return waiting.isEmpty();
  }

  /** Outputs wait for a missing index (and none is in flight). */
  boolean waitingForGap() {
    return inFlight == NONE && !waiting.isEmpty();
  }

  long lastDelivered() {
    return lastDelivered;
  }

  /** How many outputs were dropped as beyond the window. */
  int dropped() {
    return dropped;
  }
}
