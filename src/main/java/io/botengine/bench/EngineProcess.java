package io.botengine.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The benchmark's handle on an {@link EngineNode} child JVM: starts it with the engine's settings
 * as system properties, copies its log to a file (counting WARN and ERROR lines), and asks it for
 * its CPU time, heap and journal size.
 */
final class EngineProcess implements AutoCloseable {

  /**
   * One answer to {@code stats}; cpu (all of the JVM, with sys its kernel part, jit that of the JIT
   * compiler threads, gcThreads that of the GC threads) in nanoseconds, heap and resident memory
   * (rss, and rssPeak the highest so far) in bytes.
   */
  record Stats(
      long cpu, long sys, long heap, long peak, int threads, int peakThreads, long gcCount, long gcMillis,
      int fds, long events, long snapshots, long rss, long rssPeak, long jit, long gcThreads) {
    static Stats parse(String line) {
      Map<String, Long> v = new HashMap<>();
      for (String pair : line.trim().split(" ")) {
        int eq = pair.indexOf('=');
        v.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
      }
      return new Stats(v.get("cpu"), v.get("sys"), v.get("heap"), v.get("peak"), v.get("threads").intValue(),
          v.get("peakThreads").intValue(), v.get("gcCount"), v.get("gcMillis"),
          v.get("fds").intValue(), v.get("events"), v.get("snapshots"), v.get("rss"),
          v.get("rssPeak"), v.get("jit"), v.get("gcThreads"));
    }
  }

  private final Process process;
  private final PrintWriter commands;
  private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
  private final AtomicInteger warnings = new AtomicInteger();
  private final AtomicInteger errors = new AtomicInteger();
  private final List<String> firstProblems = new ArrayList<>();

  private EngineProcess(Process process, Path log) throws IOException {
    this.process = process;
    this.commands =
        new PrintWriter(process.outputWriter(StandardCharsets.UTF_8), true);
    Writer logFile = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader out =
                      new BufferedReader(
                          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                  logFile) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                  if (line.startsWith(EngineNode.PREFIX)) {
                    replies.add(line.substring(EngineNode.PREFIX.length()));
                    continue;
                  }
                  logFile.write(line);
                  logFile.write('\n');
                  boolean warn = line.contains(" WARN ");
                  boolean error = line.contains(" ERROR ");
                  if (warn || error) {
                    (warn ? warnings : errors).incrementAndGet();
                    synchronized (firstProblems) {
                      if (firstProblems.size() < 5) {
                        firstProblems.add(line);
                      }
                    }
                  }
                }
              } catch (IOException e) {
                // the child is gone; waitFor reports it
              }
              replies.add("exited");
            },
            "engine-output");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts an engine JVM with {@code heap} as -Xmx, {@code jvmArgs} and {@code settings} (config
   * paths and values); returns once it is ready.
   */
  static EngineProcess start(
      Map<String, String> settings, String heap, List<String> jvmArgs, Path log) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-Xmx" + heap);
    command.add("-Dlogback.configurationFile=logback.xml");
    command.addAll(jvmArgs);
    settings.forEach((key, value) -> command.add("-D" + key + "=" + value));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(EngineNode.class.getName());
    try {
      Files.createDirectories(log.getParent());
      Process process =
          new ProcessBuilder(command).redirectErrorStream(true).start();
      EngineProcess engine = new EngineProcess(process, log);
      String first = engine.await(120);
      if (!"ready".equals(first)) {
        engine.close();
        throw new IllegalStateException("engine did not start (" + first + "); see " + log);
      }
      return engine;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Stats stats() {
    return Stats.parse(ask("stats"));
  }

  /** Stats after a full collection: {@code heap} is then the live heap. */
  Stats afterGc() {
    return Stats.parse(ask("gc"));
  }

  void resetPeak() {
    ask("reset");
  }

  boolean alive() {
    return process.isAlive();
  }

  int warnings() {
    return warnings.get();
  }

  int errors() {
    return errors.get();
  }

  /** The first few WARN/ERROR lines of the engine's log. */
  List<String> firstProblems() {
    synchronized (firstProblems) {
      return List.copyOf(firstProblems);
    }
  }

  private String ask(String command) {
    commands.println(command);
    String answer = await(120);
    if (answer == null || answer.equals("exited")) {
      throw new IllegalStateException("engine did not answer " + command);
    }
    return answer;
  }

  private String await(int seconds) {
    try {
      return replies.poll(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        commands.println("quit");
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
