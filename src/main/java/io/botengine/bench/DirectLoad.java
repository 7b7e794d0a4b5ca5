package io.botengine.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The limit the engine is compared with: the Bot API emulator's own maximum, driven by a plain
 * HTTP/1.1 load generator over loopback. Each connection is a thread with a blocking keep-alive
 * socket that writes a prepared {@code sendMessage} (the JSON the engine's client sends) and reads
 * the answer; nothing is parsed but the status line and Content-Length, so the emulator, not the
 * generator, is what runs out of CPU.
 */
final class DirectLoad {

  /** Requests per second reached at {@code connections} connections; {@code errors} non-200s. */
  record Level(int connections, double perSecond, long errors) {}

  private DirectLoad() {}

  /**
   * Runs each level of concurrency for {@code each} (after as long a warm-up) against the emulator
   * at {@code port}, sending to {@code chatId} (which must have written to the bot).
   */
  static List<Level> measure(int port, String token, long chatId, int[] levels, Duration each) {
    List<Level> result = new ArrayList<>();
    run(port, token, chatId, Arrays.stream(levels).max().orElse(4), each);
    for (int connections : levels) {
      result.add(run(port, token, chatId, connections, each));
    }
    return result;
  }

  private static Level run(int port, String token, long chatId, int connections, Duration each) {
    byte[] body =
        ("{\"chat_id\":\"" + chatId + "\",\"text\":\"Вывод 1\",\"parse_mode\":\"Markdown\"}")
            .getBytes(StandardCharsets.UTF_8);
    byte[] head =
        ("POST /bot" + token + "/sendMessage HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + port + "\r\n"
                + "Content-Type: application/json; charset=UTF-8\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[head.length + body.length];
    System.arraycopy(head, 0, request, 0, head.length);
    System.arraycopy(body, 0, request, head.length, body.length);
    AtomicLong done = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long deadline = System.nanoTime() + each.toNanos();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < connections; i++) {
      Thread t =
          new Thread(
              () -> {
                try (Socket socket = new Socket()) {
                  socket.setTcpNoDelay(true);
                  socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                  OutputStream out = socket.getOutputStream();
                  InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
                  while (System.nanoTime() < deadline) {
                    out.write(request);
                    out.flush();
                    if (readResponse(in) != 200) {
                      errors.incrementAndGet();
                    }
                    done.incrementAndGet();
                  }
                } catch (IOException e) {
                  errors.incrementAndGet();
                }
              },
              "direct-load-" + i);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Level(connections, done.get() / seconds, errors.get());
  }

  /** Reads one response; returns its status. */
  private static int readResponse(InputStream in) throws IOException {
    String status = line(in);
    int code = Integer.parseInt(status.substring(9, 12));
    int length = 0;
    for (String header = line(in); !header.isEmpty(); header = line(in)) {
      if (header.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(header.substring(15).strip());
      }
    }
    for (int left = length; left > 0; ) {
      long skipped = in.skip(left);
      if (skipped <= 0) {
        if (in.read() < 0) {
          throw new IOException("connection closed");
        }
        skipped = 1;
      }
      left -= (int) skipped;
    }
    return code;
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder s = new StringBuilder(64);
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      if (c != '\r') {
        s.append((char) c);
      }
    }
    return s.toString();
  }
}
