package io.botengine;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Checks, before the actor system starts, that the ports a node listens on can be bound: a port in
 * use is then one line naming its setting, instead of a stack trace from inside Akka (or, for the
 * cluster port, a node that stops with status 0).
 */
final class Ports {
  private Ports() {}

  /** The HTTP and cluster ports of {@code settings}; 0 (any free port) is not checked. */
  static void checkBindable(EngineSettings settings) {
    check("bot.http.port", settings.http().host(), settings.http().port());
    check("bot.cluster.port", settings.cluster().host(), settings.cluster().port());
  }

  private static void check(String path, String host, int port) {
    if (port == 0) {
      return;
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new EngineSettings.SettingsException(EngineSettings.nameOf(path) + ": cannot listen on "
          + host + ":" + port + " (" + e.getMessage() + "); is another process using it?");
    }
  }
}
