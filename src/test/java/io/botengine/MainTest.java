package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link Main} as an operator runs it: a child JVM with the production configuration. */
class MainTest {
  private static final Path WORK = Path.of("target", "main-test").toAbsolutePath();

  /** A node with the given environment, its logs on stdout as in production. */
  private static Process start(Map<String, String> env) throws IOException {
    return start(env, WORK.resolve("stdout-" + UUID.randomUUID() + ".log"));
  }

  private static Process start(Map<String, String> env, Path stdout) throws IOException {
    Files.createDirectories(WORK);
    ProcessBuilder b =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Dlogback.configurationFile=" + Path.of("conf", "logback.xml").toAbsolutePath(),
            "-cp",
            System.getProperty("java.class.path"),
            "io.botengine.Main");
    b.environment().keySet().removeIf(k -> k.startsWith("TELEGRAM_") || k.startsWith("HTTP_")
        || k.startsWith("CLUSTER_") || k.startsWith("RUNNER_") || k.startsWith("JDBC_"));
    b.environment().put("JDBC_URL", "jdbc:h2:file:" + WORK.resolve(UUID.randomUUID().toString()));
    b.environment().putAll(env);
    b.redirectOutput(stdout.toFile());
    return b.start();
  }

  private static Map<String, String> node(String httpPort, String clusterPort) {
    return Map.of(
        "TELEGRAM_BOT_TOKEN", "123456:test-token",
        "RUNNER_URL", "http://127.0.0.1:9",
        "HTTP_HOST", "127.0.0.1",
        "HTTP_PORT", httpPort,
        "CLUSTER_PORT", clusterPort);
  }

  private static List<String> stderr(Process p) throws IOException {
    List<String> lines = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
      r.lines().forEach(lines::add);
    }
    return lines;
  }

  private static void assertRefusedInOneLine(Map<String, String> env, String setting, int port)
      throws Exception {
    Process p = start(env);
    List<String> err = stderr(p);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the node stopped");
    assertEquals(2, p.exitValue(), String.join("\n", err));
    assertEquals(1, err.size(), String.join("\n", err));
    assertTrue(err.get(0).startsWith("Configuration error: " + setting), err.get(0));
    assertTrue(err.get(0).contains("127.0.0.1:" + port), err.get(0));
  }

  @Test
  void anHttpPortInUseIsOneLineAndANonZeroExit() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = busy.getLocalPort();
      assertRefusedInOneLine(node(Integer.toString(port), "0"), "HTTP_PORT (bot.http.port)", port);
    }
  }

  @Test
  void aClusterPortInUseIsOneLineAndANonZeroExit() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = busy.getLocalPort();
      assertRefusedInOneLine(node("0", Integer.toString(port)), "CLUSTER_PORT (bot.cluster.port)",
          port);
    }
  }

  @Test
  void aBadSettingIsOneLineBeforeAnythingStarts() throws Exception {
    Map<String, String> env = new java.util.HashMap<>(node("0", "0"));
    env.put("RUNNER_MAX_FRAME_SIZE", "abc");
    Process p = start(env);
    List<String> err = stderr(p);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the node stopped");
    assertEquals(2, p.exitValue(), String.join("\n", err));
    assertEquals(List.of("Configuration error: RUNNER_MAX_FRAME_SIZE (bot.runner.max-frame-size)"
        + " must be a whole number, got 'abc'"), err);
  }

  @Test
  void jsonLogsAreOneObjectPerLineFromStartToStop() throws Exception {
    Path stdout = WORK.resolve("json-" + UUID.randomUUID() + ".log");
    Process p = start(Map.of("HTTP_PORT", "0", "CLUSTER_PORT", "0", "LOG_FORMAT", "json"), stdout);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (!Files.readString(stdout).contains("Sandbox is up")) {
        assertTrue(p.isAlive(), "the sandbox stopped: " + Files.readString(stdout));
        assertTrue(System.nanoTime() < deadline, "the sandbox did not start in 90 s");
        p.waitFor(200, TimeUnit.MILLISECONDS);
      }
      p.destroy();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the node stopped");
      com.fasterxml.jackson.databind.ObjectMapper json =
          new com.fasterxml.jackson.databind.ObjectMapper();
      List<String> lines = Files.readAllLines(stdout);
      assertTrue(lines.size() > 5, String.join("\n", lines));
      for (String line : lines) {
        assertTrue(json.readTree(line).isObject(), line);
      }
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aGracefulStopExitsZero() throws Exception {
    Path stdout = WORK.resolve("sigterm-" + UUID.randomUUID() + ".log");
    Process p = start(Map.of("HTTP_PORT", "0", "CLUSTER_PORT", "0"), stdout);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      // The sandbox prints where to open it once it is up.
      while (!Files.readString(stdout).contains("Sandbox is up")) {
        assertTrue(p.isAlive(), "the sandbox stopped: " + Files.readString(stdout));
        assertTrue(System.nanoTime() < deadline, "the sandbox did not start in 90 s");
        p.waitFor(200, TimeUnit.MILLISECONDS);
      }
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the node stopped");
      assertEquals(0, p.exitValue(), "exit status after SIGTERM");
      assertFalse(Files.readString(stdout).contains("Exception"), Files.readString(stdout));
    } finally {
      p.destroyForcibly();
    }
  }
}
