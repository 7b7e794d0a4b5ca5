package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The delivery order of a job's outputs, without an actor: what goes next, and what is dropped. */
class ReorderBufferTest {

  private static RunnerFrame.Output output(Long index) {
    return new RunnerFrame.Output(index, RunnerFrame.Kind.TEXT, "Вывод " + index, null, null);
  }

  /** Delivers whatever may go now, one at a time, and returns the indexes in the order sent. */
  private static List<Long> drain(ReorderBuffer buffer, boolean streamEnded) {
    List<Long> sent = new ArrayList<>();
    for (Optional<ReorderBuffer.Next> next = buffer.next(streamEnded); next.isPresent();
        next = buffer.next(streamEnded)) {
      sent.add(next.get().index());
      buffer.delivered(next.get().index());
    }
    return sent;
  }

  @Test
  void deliversInIndexOrderEachOnce() {
    ReorderBuffer buffer = new ReorderBuffer(0, 64);
    List<Long> sent = new ArrayList<>();
    for (long index : new long[] {1, 3, 2, 2, 1, 4}) {
      buffer.offer(output(index));
      sent.addAll(drain(buffer, false));
    }
    assertEquals(List.of(1L, 2L, 3L, 4L), sent);
  }

  @Test
  void refusesWhatWasDeliveredBeforeAResumeAndWhatIsInFlight() {
    ReorderBuffer buffer = new ReorderBuffer(5, 64);
    assertEquals(ReorderBuffer.Verdict.REPEATED, buffer.offer(output(5L)).verdict());
    assertEquals(ReorderBuffer.Verdict.KEPT, buffer.offer(output(6L)).verdict());
    assertEquals(6, buffer.next(false).orElseThrow().index());
    assertEquals(ReorderBuffer.Verdict.REPEATED, buffer.offer(output(6L)).verdict());
    assertTrue(buffer.next(false).isEmpty(), "nothing goes while an output is in flight");
  }

  @Test
  void numbersOutputsWithoutIndexByArrival() {
    ReorderBuffer buffer = new ReorderBuffer(2, 64);
    assertEquals(3, buffer.offer(output(null)).index());
    assertEquals(4, buffer.offer(output(null)).index());
    assertEquals(List.of(3L, 4L), drain(buffer, false));
  }

  @Test
  void holdsOutputsAfterAGapUntilItIsGivenUp() {
    ReorderBuffer buffer = new ReorderBuffer(1, 64);
    buffer.offer(output(3L));
    buffer.offer(output(4L));
    assertEquals(List.of(), drain(buffer, false));
    assertTrue(buffer.waitingForGap());
    buffer.giveUpGap();
    ReorderBuffer.Next next = buffer.next(false).orElseThrow();
    assertEquals(3, next.index());
    assertEquals(2, next.skippedFrom());
    buffer.delivered(3);
    assertEquals(List.of(4L), drain(buffer, false));
    assertEquals(ReorderBuffer.Verdict.REPEATED, buffer.offer(output(2L)).verdict(),
        "an output of a skipped gap that comes late is dropped");
  }

  @Test
  void skipsTheGapWhenTheStreamEndedOrMoreThanTheWindowWaits() {
    ReorderBuffer ended = new ReorderBuffer(0, 64);
    ended.offer(output(2L));
    assertEquals(List.of(2L), drain(ended, true));

    ReorderBuffer full = new ReorderBuffer(0, 3);
    for (long index = 2; index <= 4; index++) {
      full.offer(output(index));
    }
    assertEquals(List.of(), drain(full, false));
    full.offer(output(5L));
    assertEquals(List.of(2L, 3L, 4L, 5L), drain(full, false));
    assertFalse(full.waitingForGap());
  }

  @Test
  void dropsAnIndexFarBeyondTheWindowAsARunnerFaultAndKeepsDeliveringTheOthers() {
    ReorderBuffer buffer = new ReorderBuffer(0, 64);
    buffer.offer(output(1L));
    assertEquals(List.of(1L), drain(buffer, false));
    assertEquals(ReorderBuffer.Verdict.BEYOND_WINDOW,
        buffer.offer(output(1_000_000_000_000_000L)).verdict());
    buffer.offer(output(2L));
    buffer.offer(output(3L));
    assertEquals(List.of(2L, 3L), drain(buffer, false));
    buffer.giveUpGap();
    assertEquals(List.of(), drain(buffer, true), "never sent as the filler of a gap");
    buffer.offer(output(4L));
    assertEquals(List.of(4L), drain(buffer, false));
    assertEquals(1, buffer.dropped());
  }

  @Test
  void theWindowReachesFromTheHighestIndexKept() {
    ReorderBuffer buffer = new ReorderBuffer(1, 3);
    assertEquals(ReorderBuffer.Verdict.KEPT, buffer.offer(output(4L)).verdict());
    assertEquals(ReorderBuffer.Verdict.KEPT, buffer.offer(output(7L)).verdict());
    assertEquals(ReorderBuffer.Verdict.BEYOND_WINDOW, buffer.offer(output(11L)).verdict());
    assertEquals(ReorderBuffer.Verdict.KEPT, buffer.offer(output(8L)).verdict(),
        "a lost stretch followed by consecutive outputs is a gap, not a fault");
    assertEquals(9, buffer.offer(output(null)).index(),
        "a dropped index does not move the numbering of outputs without one");
    assertEquals(1, buffer.dropped());
  }
}
