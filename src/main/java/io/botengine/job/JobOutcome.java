package io.botengine.job;

/** How a job ended without success; every one of them releases the reservation. */
public enum JobOutcome {
  /** The Runner reported an error. */
  FAILED,
  /** The Runner did not accept the upload. */
  UPLOAD_FAILED,
  /** No frame within the idle timeout, or polling gave up. */
  TIMED_OUT,
  /** The user cancelled (/cancel or /cv), or the Runner reported the task cancelled. */
  CANCELLED,
  /** The engine stopped before the Runner accepted the upload; the user must send the file again. */
  UPLOAD_LOST,
  /**
   * The Runner reported success, but the engine dropped some of its outputs (an index far beyond
   * the reorder window, a Runner fault): the user did not get everything, so nothing is charged.
   */
  INCOMPLETE
}
