package io.botengine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** Calls beyond the limit wait their turn, in order, and each gets its own outcome. */
class BoundedCallsTest {
  private final BoundedCalls calls = new BoundedCalls(2);
  private final List<CompletableFuture<String>> started = new ArrayList<>();

  private CompletionStage<String> submit() {
    return calls.submit(() -> {
      CompletableFuture<String> call = new CompletableFuture<>();
      started.add(call);
      return call;
    });
  }

  @Test
  void startsAtMostTheLimitAndTheRestInArrivalOrderAsEarlierCallsEnd() {
    List<CompletableFuture<String>> results = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      results.add(submit().toCompletableFuture());
    }
    assertEquals(2, started.size());
    assertArrayEquals(new int[] {2, 3}, calls.load());

    started.get(1).complete("second");
    assertEquals("second", results.get(1).join());
    assertEquals(3, started.size(), "the first waiting call starts when one ends");
    started.get(0).completeExceptionally(new IllegalStateException("refused"));
    CompletionException failed = assertThrows(CompletionException.class, results.get(0)::join);
    assertTrue(failed.getCause() instanceof IllegalStateException);
    assertEquals(4, started.size(), "a failed call frees its place too");

    for (int i = 2; i < 5; i++) {
      started.get(i).complete("call " + i);
    }
    for (int i = 2; i < 5; i++) {
      assertEquals("call " + i, results.get(i).join(), "each call gets its own answer");
    }
    assertArrayEquals(new int[] {0, 0}, calls.load());
  }

  @Test
  void aCallThatThrowsFailsItsOwnResultAndFreesItsPlace() {
    CompletionStage<String> thrown = calls.submit(() -> {
      throw new IllegalArgumentException("bad request");
    });
    assertThrows(CompletionException.class, thrown.toCompletableFuture()::join);
    assertArrayEquals(new int[] {0, 0}, calls.load());
  }
}
