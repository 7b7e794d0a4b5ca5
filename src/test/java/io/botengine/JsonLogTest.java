package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@code LOG_FORMAT=json} with the real conf/logback.xml, over a whole end-to-end run (a job with
 * its file, the admin API, a Runner that refuses): every line is one JSON object, the job's lines
 * carry user, job, task and output index as fields, and no line holds the bot token, a key, a
 * secret, or the file's content.
 */
class JsonLogTest {
  private static final String CV = "Secret CV of Jane Roe, phone +1 555 0100, Kotlin and Java";
  private static final long USER = 8101;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ByteArrayOutputStream OUT = new ByteArrayOutputStream();
  private static PrintStream stdout;
  private static final List<JsonNode> lines = new ArrayList<>();
  private static String raw;

  @BeforeAll
  static void runAJobWithJsonLogs() throws Exception {
    stdout = System.out;
    System.setOut(new PrintStream(OUT, true, StandardCharsets.UTF_8));
    System.setProperty("LOG_FORMAT", "json");
    configure(Path.of("conf/logback.xml").toUri().toURL());
    LoggerContext logback = (LoggerContext) LoggerFactory.getILoggerFactory();
    logback.getLogger("io.botengine").setLevel(Level.DEBUG);
    try (EngineHarness harness = new EngineHarness()) {
      harness.start(Map.of("bot.log-format", "json", "bot.metrics.token", "metrics-secret-42"));
      harness.runner.scenarioFor(USER, RunnerScenario.SEED_001);
      harness.bot.sendText(USER, "/cv", "en");
      harness.awaitMessages(USER, 1);
      harness.bot.sendDocument(USER, "cv.txt", "text/plain", CV.getBytes(StandardCharsets.UTF_8));
      harness.awaitMessages(USER, 8);
      harness.admin("GET", "/admin/users/" + USER, null);
      harness.call("GET", "/metrics", null, "Authorization", "Bearer metrics-secret-42");
      // What a library might print: a Bot API file URL, and a failure that quotes it.
      LoggerFactory.getLogger("io.botengine.JsonLogTest").warn("request {} failed",
          "GET /file/bot" + EngineHarness.TOKEN + "/documents/cv.txt",
          new IllegalStateException("http://127.0.0.1/bot" + EngineHarness.TOKEN + "/getFile"));
      harness.stopEngine();
    } finally {
      logback.stop();
      System.setOut(stdout);
      System.clearProperty("LOG_FORMAT");
      configure(JsonLogTest.class.getResource("/logback-test.xml"));
    }
    raw = OUT.toString(StandardCharsets.UTF_8);
    for (String line : raw.split("\n")) {
      if (!line.isBlank()) {
        lines.add(JSON.readTree(line));
      }
    }
  }

  private static void configure(java.net.URL config) throws Exception {
    LoggerContext logback = (LoggerContext) LoggerFactory.getILoggerFactory();
    logback.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(logback);
    configurator.doConfigure(config);
  }

  @AfterAll
  static void restore() {
    System.setOut(stdout);
  }

  @Test
  void writesOneJsonObjectPerLine() {
    assertTrue(lines.size() > 20, "lines: " + lines.size());
    for (JsonNode line : lines) {
      assertTrue(line.isObject() && line.has("@timestamp") && line.has("level")
          && line.has("message") && line.has("logger_name"), line.toString());
    }
  }

  @Test
  void carriesTheJobsIdsAsFields() {
    String user = Long.toString(USER);
    JsonNode started = find("started, 1 reserved");
    assertEquals(user, started.path("user_id").asText(), started.toString());
    String jobId = started.path("job_id").asText();
    assertFalse(jobId.isEmpty(), "the job id is a field once the job is known: " + started);

    JsonNode uploaded = find("uploaded, queue position");
    assertEquals(user, uploaded.path("user_id").asText());
    assertEquals(jobId, uploaded.path("job_id").asText());
    assertFalse(uploaded.path("task_id").asText().isEmpty(), uploaded.toString());

    JsonNode delivered = lines.stream()
        .filter(l -> l.path("message").asText().endsWith("output 3 delivered")
            && l.has("output_index"))
        .findFirst().orElseThrow(() -> new AssertionError("no output line with output_index"));
    assertEquals(3, delivered.path("output_index").asLong(), delivered.toString());
    assertEquals(jobId, delivered.path("job_id").asText());
  }

  @Test
  void masksTokensKeysSecretsAndNeverLogsTheFile() {
    assertFalse(raw.contains("test-token"), "bot token in the JSON log");
    assertFalse(raw.contains(EngineHarness.RUNNER_KEY), "Runner key in the JSON log");
    assertFalse(raw.contains(EngineHarness.ADMIN_TOKEN), "admin token in the JSON log");
    assertFalse(raw.contains("metrics-secret-42"), "metrics token in the JSON log");
    assertFalse(raw.contains("Jane Roe") || raw.contains("555 0100"), "file content in the log");
    JsonNode library = find("request GET /file/bot***/documents/cv.txt failed");
    assertTrue(library.path("stack_trace").asText().contains("/bot***/getFile"),
        library.toString());
  }

  private static JsonNode find(String text) {
    return lines.stream().filter(l -> l.path("message").asText().contains(text)).findFirst()
        .orElseThrow(() -> new AssertionError("no line with " + text));
  }
}
