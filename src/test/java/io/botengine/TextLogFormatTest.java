package io.botengine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Without LOG_FORMAT, conf/logback.xml writes masked text lines, as before the JSON format. */
class TextLogFormatTest {
  @Test
  void textIsTheDefaultAndMasked() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    LoggerContext logback = (LoggerContext) LoggerFactory.getILoggerFactory();
    try {
      configure(logback, Path.of("conf/logback.xml").toUri().toURL());
      LoggerFactory.getLogger("io.botengine.TextLogFormatTest")
          .info("calling {}", "https://api.telegram.org/bot123456:abcdefghij/getMe");
      logback.stop();
    } finally {
      System.setOut(stdout);
      configure(logback, TextLogFormatTest.class.getResource("/logback-test.xml"));
    }
    String line = out.toString(StandardCharsets.UTF_8);
    assertTrue(line.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  i\\.b\\.TextLogFormatTest"
        + " +- calling https://api\\.telegram\\.org/bot\\*\\*\\*/getMe\\n"), line);
  }

  private static void configure(LoggerContext logback, URL config) throws Exception {
    logback.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(logback);
    configurator.doConfigure(config);
  }
}
