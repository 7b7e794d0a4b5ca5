package io.botengine;

import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusListener;

/**
 * Logback's own status messages, errors only, on stderr: a broken logging configuration still
 * shows, while its informational lines and the warning that the appender of the format not chosen
 * is unused never reach stdout, where they would break the one-JSON-object-per-line format.
 */
public final class LogbackErrorsOnly implements StatusListener {
  @Override
  public void addStatusEvent(Status status) {
    if (status.getEffectiveLevel() >= Status.ERROR) {
      System.err.println("logback: " + status);
    }
  }

  @Override
  public boolean isResetResistant() {
    return false;
  }
}
