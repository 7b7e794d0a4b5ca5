package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scripts/cluster-local.sh} as an operator uses it, against a stand-in for node 2. */
class ClusterLocalScriptTest {
  @TempDir Path tmp;

  private record Run(int status, String out) {}

  private Run script(Map<String, String> env, String... args) throws Exception {
    ProcessBuilder b = new ProcessBuilder("bash", "scripts/cluster-local.sh");
    b.command().addAll(java.util.List.of(args));
    b.environment().keySet().removeIf(k -> k.startsWith("BOT_LOCAL_"));
    b.environment().putAll(env);
    b.redirectErrorStream(true);
    Process p = b.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return new Run(p.exitValue(), out);
  }

  /** A free port whose predecessor is free too (node 1, which is down). */
  private static int freePortAfterAFreeOne() throws IOException {
    for (int attempt = 0; attempt < 20; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      try (ServerSocket before = new ServerSocket(port - 1, 1, InetAddress.getLoopbackAddress())) {
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IllegalStateException("no two adjacent free ports");
  }

  @Test
  void adminAsksTheFirstNodeThatIsReady() throws Exception {
    int node2 = freePortAfterAFreeOne();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", node2), 0);
    server.createContext("/health/ready", ex -> {
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    server.createContext("/admin/users/42", ex -> {
      boolean authorized = "Bearer local-admin".equals(ex.getRequestHeaders().getFirst("Authorization"));
      byte[] body = "{\"user_id\":\"42\"}".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(authorized ? 200 : 401, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    server.start();
    try {
      Run run = script(Map.of("BOT_LOCAL_HTTP_BASE", Integer.toString(node2 - 2),
          "BOT_LOCAL_STATE", tmp.toString()), "admin", "42");
      assertEquals(0, run.status(), run.out());
      assertEquals("{\"user_id\":\"42\"}", run.out().strip());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void keepsItsStateOutsideTheCheckout() throws Exception {
    Run run = script(Map.of("TMPDIR", tmp.toString(), "BOT_LOCAL_HTTP_BASE", "1"), "status");
    assertEquals(0, run.status(), run.out());
    String uid = new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes(),
        StandardCharsets.UTF_8).strip();
    assertTrue(run.out().startsWith(
        "state (logs, pid files): " + tmp.resolve("bot-engine-cluster-local-" + uid) + "\n"),
        run.out());
    assertTrue(Files.notExists(Path.of(".cluster-local")), "nothing written into the checkout");
  }
}
