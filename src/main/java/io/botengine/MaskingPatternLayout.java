package io.botengine;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback's pattern layout with {@link LogSafe#mask} over the whole formatted line, stack traces
 * included: whatever a library prints (Akka's connection pool logs request lines, and a file URL
 * carries the bot token), no token or registered secret reaches the log.
 */
public final class MaskingPatternLayout extends PatternLayout {
  @Override
  public String doLayout(ILoggingEvent event) {
    return LogSafe.mask(super.doLayout(event));
  }
}
