package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class FailuresTest {

  @Test
  void unwrapsEveryCompletionAndExecutionWrapper() {
    IllegalStateException cause = new IllegalStateException("boom");
    Throwable wrapped = new CompletionException(new ExecutionException(cause));
    assertEquals(cause, Failures.cause(wrapped));
    assertEquals("IllegalStateException: boom", Failures.describe(wrapped));
  }

  @Test
  void leavesAnUnwrappedFailureAsItIs() {
    IllegalStateException cause = new IllegalStateException("boom");
    assertEquals(cause, Failures.cause(cause));
    CompletionException empty = new CompletionException("no cause", null);
    assertEquals(empty, Failures.cause(empty));
  }
}
