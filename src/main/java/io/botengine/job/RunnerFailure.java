package io.botengine.job;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why a call to the Runner failed, as the user is told it (one text per cause, never the raw
 * error) and as {@code botengine_runner_errors_total{kind}} counts it. Seed 004's table: the
 * Runner cannot be reached, it refused the engine's key, it does not know the task, it did not
 * answer in time; and anything else.
 */
public enum RunnerFailure {
  CONNECTION_REFUSED,
  AUTH_REFUSED,
  TASK_NOT_FOUND,
  TIMEOUT,
  SERVER_ERROR,
  OTHER;

  private static final Pattern HTTP_STATUS = Pattern.compile("HTTP (\\d{3})");

  /** The label and the key of the user's text: {@code connection_refused}, ... */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The cause of {@code error} (null: a stream that ended without a final frame, a timeout). */
  public static RunnerFailure of(Throwable failure) {
    Throwable error = failure == null ? null : io.botengine.Failures.cause(failure);
    if (error == null || error instanceof RunnerException.StreamIdle
        || error instanceof RunnerException.PollTimeout
        || error instanceof java.util.concurrent.TimeoutException) {
      return TIMEOUT;
    }
    String reason = error instanceof RunnerException r ? r.reason()
        : error.getClass().getSimpleName() + ": " + error.getMessage();
    return ofReason(reason);
  }

  /** The cause a failure's reason names ({@link RunnerException#reason()}, a log text). */
  public static RunnerFailure ofReason(String reason) {
    if (reason == null) {
      return OTHER;
    }
    Matcher status = HTTP_STATUS.matcher(reason);
    if (status.find()) {
      return ofStatus(Integer.parseInt(status.group(1)));
    }
    if (reason.contains("no answer within") || reason.contains("Timeout")) {
      return TIMEOUT;
    }
    if (reason.contains("onnection refused") || reason.contains("ConnectException")
        || reason.contains("StreamTcpException") || reason.contains("UnknownHost")
        || reason.contains("UnresolvedAddress")) {
      return CONNECTION_REFUSED;
    }
    return OTHER;
  }

  /** The cause an HTTP status other than 200 means. */
  public static RunnerFailure ofStatus(int status) {
    if (status == 401 || status == 403) {
      return AUTH_REFUSED;
    }
    if (status == 404 || status == 410) {
      return TASK_NOT_FOUND;
    }
    if (status == 408 || status == 504) {
      return TIMEOUT;
    }
    return status >= 500 ? SERVER_ERROR : OTHER;
  }

  /** The cause a {@link TaskActor.Failed#detail()} names, if it is one of these labels. */
  public static Optional<RunnerFailure> named(String detail) {
    for (RunnerFailure f : values()) {
      if (f.label().equals(detail)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }
}
