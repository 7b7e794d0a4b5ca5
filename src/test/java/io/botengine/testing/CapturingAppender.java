package io.botengine.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import io.botengine.MaskingPatternLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps every log line of the running test in memory, masked as conf/logback.xml masks them;
 * {@link LogCapture} decides whether to print.
 */
public final class CapturingAppender extends AppenderBase<ILoggingEvent> {
  private static final List<byte[]> LINES = new ArrayList<>();
  private LayoutWrappingEncoder<ILoggingEvent> encoder;

  @Override
  public void start() {
    MaskingPatternLayout layout = new MaskingPatternLayout();
    layout.setContext(getContext());
    layout.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{30} %X{akkaSource} - %msg%n%ex");
    layout.start();
    encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(getContext());
    encoder.setLayout(layout);
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

  /** Everything logged since the current test started, as the log file would read. */
  public static String text() {
    StringBuilder out = new StringBuilder();
    synchronized (LINES) {
      for (byte[] line : LINES) {
        out.append(new String(line, StandardCharsets.UTF_8));
      }
    }
    return out.toString();
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
