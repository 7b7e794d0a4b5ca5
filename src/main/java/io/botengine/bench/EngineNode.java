package io.botengine.bench;

import com.sun.management.OperatingSystemMXBean;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.botengine.Engine;
import io.botengine.Main;
import io.botengine.job.RunnerJobs;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine under test, in a JVM of its own so that its CPU time, heap and file descriptors are
 * measured apart from the emulators (and 10,000 streams fit in one process's descriptor limit).
 * Configured by system properties ({@code -Dbot.telegram.api-url=...}) over the jar's
 * application.conf; logs go to stdout with the production logback.xml. Answers one command per
 * stdin line with one stdout line prefixed {@value #PREFIX}: {@code stats}, {@code gc} (stats after
 * a full collection), {@code reset} (peak heap), {@code quit}. Exits when stdin closes.
 */
public final class EngineNode {
  static final String PREFIX = "@bench ";
  private static final AtomicLong peakHeap = new AtomicLong();

  private EngineNode() {}

  public static void main(String[] args) throws Exception {
    Main.keepAsyncCallbacksOnAPool();
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    Thread sampler =
        new Thread(
            () -> {
              while (true) {
                peakHeap.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "bench-heap-sampler");
    sampler.setDaemon(true);
    sampler.start();
    Config config = ConfigFactory.load();
    Engine engine = Engine.start(config, RunnerJobs::new);
    engine.httpPort(Duration.ofSeconds(60));
    String jdbcUrl = config.getString("bot.persistence.jdbc-url");
    reply("ready");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      switch (line.strip()) {
        case "stats" -> reply(stats(jdbcUrl, config));
        case "gc" -> {
          for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
          }
          reply(stats(jdbcUrl, config));
        }
        case "reset" -> {
          peakHeap.set(memory.getHeapMemoryUsage().getUsed());
          reply("reset");
        }
        case "quit" -> {
          engine.close();
          reply("bye");
          System.exit(0);
        }
        default -> reply("unknown " + line);
      }
    }
    engine.close();
    System.exit(0);
  }

  private static void reply(String line) {
    System.out.println(PREFIX + line);
    System.out.flush();
  }

  private static String stats(String jdbcUrl, Config config) {
    OperatingSystemMXBean os =
        (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long gcCount = 0;
    long gcMillis = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      gcCount += Math.max(0, gc.getCollectionCount());
      gcMillis += Math.max(0, gc.getCollectionTime());
    }
    String[] fds = new File("/proc/self/fd").list();
    return "cpu=" + os.getProcessCpuTime()
        + " sys=" + systemCpuNanos()
        + " heap=" + ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()
        + " peak=" + peakHeap.get()
        + " threads=" + ManagementFactory.getThreadMXBean().getThreadCount()
        + " peakThreads=" + ManagementFactory.getThreadMXBean().getPeakThreadCount()
        + " gcCount=" + gcCount
        + " gcMillis=" + gcMillis
        + " fds=" + (fds == null ? -1 : fds.length)
        + " events=" + count(jdbcUrl, config, "event_journal")
        + " snapshots=" + count(jdbcUrl, config, "snapshot")
        + " rss=" + memoryStatus("VmRSS")
        + " rssPeak=" + memoryStatus("VmHWM")
        + " jit=" + threadCpuNanos("C1 CompilerThre", "C2 CompilerThre")
        + " gcThreads=" + threadCpuNanos("GC Thread#", "G1 ");
  }

  /**
   * CPU time of this JVM's live threads whose name starts with one of {@code prefixes} (Linux
   * /proc/self/task, names cut to 15 characters), in nanoseconds; -1 elsewhere. The JIT compiler
   * and GC threads live as long as the JVM, so a difference of two readings is their share of a
   * run.
   */
  private static long threadCpuNanos(String... prefixes) {
    File[] tasks = new File("/proc/self/task").listFiles();
    if (tasks == null) {
      return -1;
    }
    long ticks = 0;
    for (File task : tasks) {
      try {
        String stat = java.nio.file.Files.readString(task.toPath().resolve("stat"));
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        for (String prefix : prefixes) {
          if (name.startsWith(prefix)) {
            String[] fields = statFields(stat);
            ticks += Long.parseLong(fields[UTIME]) + Long.parseLong(fields[STIME]);
            break;
          }
        }
      } catch (java.io.IOException | RuntimeException e) {
        // the thread ended while the directory was read
      }
    }
    return ticks * TICK_NANOS;
  }

  /** A size from /proc/self/status (VmRSS, VmHWM) in bytes; -1 elsewhere. */
  private static long memoryStatus(String field) {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").strip()) * 1024;
        }
      }
      return -1;
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Kernel CPU time of this process (Linux /proc/self/stat), -1 elsewhere. */
  private static long systemCpuNanos() {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
      return Long.parseLong(statFields(stat)[STIME]) * TICK_NANOS;
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Clock ticks of /proc's CPU times (USER_HZ, 100 on Linux), in nanoseconds. */
  private static final long TICK_NANOS = 10_000_000L;

  /** User and kernel CPU time among {@link #statFields}. */
  private static final int UTIME = 11;
  private static final int STIME = 12;

  /** The fields of a /proc stat line after the command name, from its state on. */
  private static String[] statFields(String stat) {
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
  }

  /** Rows of a journal table, read over a second connection to the engine's database. */
  private static long count(String jdbcUrl, Config config, String table) {
    try (Connection c =
            DriverManager.getConnection(
                jdbcUrl,
                config.getString("bot.persistence.user"),
                config.getString("bot.persistence.password"));
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT COUNT(*) FROM \"" + table + "\"")) {
      rows.next();
      return rows.getLong(1);
    } catch (SQLException e) {
      return -1;
    }
  }
}
