package io.botengine;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What went wrong, from the failure a {@link java.util.concurrent.CompletionStage} reports. */
public final class Failures {
  private Failures() {}

  /** The failure inside the CompletionException / ExecutionException wrappers, if any. */
  public static Throwable cause(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** "SimpleName: message" of the unwrapped cause, for a log line. */
  public static String describe(Throwable failure) {
    Throwable cause = cause(failure);
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }
}
