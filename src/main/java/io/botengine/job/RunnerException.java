package io.botengine.job;

/**
 * Why a call to the Runner did not give what was asked. Each subclass is one thing the caller
 * reacts to differently: a failed upload is reported and not charged, an unavailable stream falls
 * back to polling, an idle stream or a poll past its limit is a timeout for the user.
 */
public abstract sealed class RunnerException extends RuntimeException {
  private final String reason;

  private RunnerException(String message, String reason) {
    super(message, null, false, false);
    this.reason = reason;
  }

  /** Short cause, safe to log (no key, no file content). */
  public String reason() {
    return reason;
  }

  /** The upload was not accepted: refused, non-200, no task id, or no answer in time. */
  public static final class UploadFailed extends RunnerException {
    public UploadFailed(String reason) {
      super("Upload to the Runner failed: " + reason, reason);
    }
  }

  /** The event stream could not be had after the configured number of consecutive attempts. */
  public static final class StreamUnavailable extends RunnerException {
    public StreamUnavailable(String taskId, String reason) {
      super("Runner stream of task " + taskId + " unavailable: " + reason, reason);
    }
  }

  /** No SSE event arrived for {@code bot.runner.stream-idle-timeout}. */
  public static final class StreamIdle extends RunnerException {
    public StreamIdle(String taskId, String reason) {
      super("Runner stream of task " + taskId + " idle: " + reason, reason);
    }
  }

  /** Polling saw no final status within {@code bot.runner.poll-max-duration}. */
  public static final class PollTimeout extends RunnerException {
    public PollTimeout(String taskId, String reason) {
      super("Polling task " + taskId + " timed out: " + reason, reason);
    }
  }

  /** A status, result or other call got an unusable answer (non-200, bad body, no answer). */
  public static final class RequestFailed extends RunnerException {
    public RequestFailed(String reason) {
      super("Runner request failed: " + reason, reason);
    }
  }
}
