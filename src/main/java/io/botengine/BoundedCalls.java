package io.botengine;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Runs at most {@code limit} asynchronous calls at once; the others wait their turn in arrival
 * order, without a bound (each waiting call is a user waiting for it). Nothing blocks: a call
 * starts on the thread that submits it or on the one that completes an earlier call.
 */
public final class BoundedCalls {
  private final int limit;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;

  public BoundedCalls(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1: " + limit);
    }
    this.limit = limit;
  }

  public <T> CompletionStage<T> submit(Supplier<? extends CompletionStage<T>> call) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Runnable start = () -> {
      CompletionStage<T> stage;
      try {
        stage = call.get();
      } catch (RuntimeException e) {
        stage = CompletableFuture.failedFuture(e);
      }
      stage.whenComplete((value, error) -> {
        next();
        if (error != null) {
          result.completeExceptionally(error);
        } else {
          result.complete(value);
        }
      });
    };
    boolean now;
    synchronized (this) {
      now = running < limit;
      if (now) {
        running++;
      } else {
        waiting.add(start);
      }
    }
    if (now) {
      start.run();
    }
    return result;
  }

  /** Calls running now, and waiting for their turn. */
  public synchronized int[] load() {
    return new int[] {running, waiting.size()};
  }

  private void next() {
    Runnable start;
    synchronized (this) {
      start = waiting.poll();
      if (start == null) {
        running--;
      }
    }
    if (start != null) {
      start.run();
    }
  }
}
