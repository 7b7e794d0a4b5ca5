package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

class LogSafeTest {
  @Test
  void masksCredentialsOfTheRunnerUrl() {
    assertEquals("http://***@runner:8080/api", LogSafe.url("http://user:pa55@runner:8080/api"));
    assertEquals("https://runner.example", LogSafe.url("https://runner.example"));
    assertEquals("akka://bot-engine@10.0.0.1:25520", LogSafe.mask("akka://bot-engine@10.0.0.1:25520"));
  }

  @Test
  void runnerSettingsNeverShowUrlCredentials() {
    var settings =
        io.botengine.job.RunnerSettings.fromConfig(
                com.typesafe.config.ConfigFactory.load().getConfig("bot.runner"))
            .withUrl("http://svc:hunter22@runner:9000");
    assertFalse(settings.toString().contains("hunter22"), settings.toString());
    assertTrue(settings.toString().contains("http://***@runner:9000"), settings.toString());
  }

  @Test
  void masksBotTokensAndRegisteredSecretsAnywhereInALine() {
    LogSafe.secret("s3cr3t-admin-key");
    String line =
        LogSafe.mask("GET /file/bot123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ms/doc.pdf key="
            + "s3cr3t-admin-key at 10:11:12.123 from 127.0.0.1:8080");
    assertEquals("GET /file/bot***/doc.pdf key=*** at 10:11:12.123 from 127.0.0.1:8080", line);
  }

  @Test
  void masksATokenAtTheStartOfALineAndCredentialsOfAUrlWithinOne() {
    assertEquals("*** is the token", LogSafe.mask("12345:AAEhBOweik6ad9r_QXM is the token"));
    assertEquals("08:00:01 INFO calling http://***@runner:8080/api (1234:abcdefghij kept)",
        LogSafe.mask("08:00:01 INFO calling http://svc:pa55word@runner:8080/api"
            + " (1234:abcdefghij kept)"));
  }

  @Test
  void theLayoutMasksLibraryLinesAndTheirStackTraces() {
    MaskingPatternLayout layout = new MaskingPatternLayout();
    layout.setContext(new LoggerContext());
    layout.setPattern("%logger %msg%n%ex");
    layout.start();
    LoggerContext context = new LoggerContext();
    LoggingEvent event =
        new LoggingEvent("x", context.getLogger("akka.http.impl.engine.client.PoolId"), Level.WARN,
            "Ongoing request [GET /file/bot123456:test-token/a.pdf Empty] was dropped",
            new IllegalStateException("http://127.0.0.1/file/bot123456:test-token/a.pdf"), null);
    String out = layout.doLayout(event);
    assertFalse(out.contains("test-token"), out);
    assertTrue(out.contains("Ongoing request [GET /file/bot***/a.pdf Empty] was dropped"), out);
  }

  @Test
  void escapesControlCharactersAndTruncatesUserText() {
    assertEquals("\"ok\\nINFO forged\\u0007\"", LogSafe.text("ok\nINFO forged\u0007"));
    String big = "x".repeat(10_000);
    String shown = LogSafe.text(big);
    assertTrue(shown.length() < 250, shown);
    assertTrue(shown.endsWith("…(10000 chars)"), shown);
  }
}
