package io.botengine.testing;

import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Keeps every log line of the running test in memory; {@link LogCapture} decides whether to print. */
public final class CapturingAppender extends AppenderBase<ILoggingEvent> {
  private static final List<byte[]> LINES = new ArrayList<>();
  private PatternLayoutEncoder encoder;

  @Override
  public void start() {
    encoder = new PatternLayoutEncoder();
    encoder.setContext(getContext());
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{30} %X{akkaSource} - %msg%n%ex");
    encoder.setCharset(StandardCharsets.UTF_8);
    encoder.start();
    super.start();
  }

  @Override
  protected void append(ILoggingEvent event) {
    byte[] line = encoder.encode(event);
    synchronized (LINES) {
      LINES.add(line);
    }
  }

  static void clear() {
    synchronized (LINES) {
      LINES.clear();
    }
  }

  static void flushTo(java.io.PrintStream out) {
    synchronized (LINES) {
      for (byte[] line : LINES) {
        out.print(new String(line, StandardCharsets.UTF_8));
      }
      LINES.clear();
    }
  }
}
