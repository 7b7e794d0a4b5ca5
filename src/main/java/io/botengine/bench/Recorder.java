package io.botengine.bench;

import io.botengine.sandbox.BotApiEmulator;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the emulators saw of a run, with {@link System#nanoTime()} stamps: when the Runner emulator
 * wrote frame {@code i} of a task, when the Bot API emulator received "Вывод i" for a chat, and for
 * each tracked user whether the prompt and the final "✅" came, and whether outputs came once each
 * and in order; for each user who sent a command ({@link #commandSent}), when its first reply came. Listener methods run on emulator threads; calls for one chat never overlap, as the
 * engine sends one call at a time per chat.
 */
final class Recorder {
  private static final String OUTPUT = "Вывод ";

  /** One user's chat as the Bot API emulator saw it. */
  static final class Track {
    final long[] arrived;
    boolean prompted;
    volatile boolean completed;
    volatile String ending;
    int delivered;
    int last;
    int duplicates;
    int outOfOrder;

    Track(int outputs) {
      arrived = new long[outputs + 1];
    }
  }

  /** Latency percentiles in milliseconds, over {@code count} outputs. */
  record Latency(int count, double p50, double p95, double p99, double max) {}

  private final int outputs;
  private final Map<Long, Track> users = new ConcurrentHashMap<>();
  private final Map<String, long[]> written = new ConcurrentHashMap<>();
  final AtomicInteger prompted = new AtomicInteger();
  final AtomicInteger completed = new AtomicInteger();
  final AtomicInteger ended = new AtomicInteger();
  final AtomicLong delivered = new AtomicLong();
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger mostRunning = new AtomicInteger();
  private final AtomicLong firstArrival = new AtomicLong(Long.MAX_VALUE);
  private final AtomicLong lastArrival = new AtomicLong(Long.MIN_VALUE);
  final AtomicInteger firstOutputs = new AtomicInteger();
  final AtomicLong calls = new AtomicLong();
  /** Per commanding user: when the command was injected and when the first reply came (or 0). */
  private final Map<Long, long[]> commands = new ConcurrentHashMap<>();

  Recorder(int outputs) {
    this.outputs = outputs;
  }

  void track(long user) {
    users.put(user, new Track(outputs));
  }

  Track track(Long user) {
    return users.get(user);
  }

  void onFrameWritten(String taskId, int position) {
    if (position < 1 || position > outputs) {
      return;
    }
    long now = System.nanoTime();
    long[] times = written.computeIfAbsent(taskId, id -> new long[outputs + 1]);
    if (times[position] == 0) {
      times[position] = now;
      if (position == 1) {
        mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      }
    }
  }

  /**
   * The most jobs whose stream had started (first frame written) and whose end had not yet reached
   * the chat: the streams the engine held at once.
   */
  int mostRunning() {
    return mostRunning.get();
  }

  /** Call right before injecting {@code user}'s command: its reply is timed from now. */
  void commandSent(long user) {
    commands.put(user, new long[] {System.nanoTime(), 0});
  }

  void onSent(BotApiEmulator.Sent sent) {
    long now = System.nanoTime();
    calls.incrementAndGet();
    long[] command = commands.get(sent.chatId());
    if (command != null && sent.method().equals("sendMessage")) {
      synchronized (command) {
        if (command[1] == 0) {
          command[1] = now;
        }
      }
      return;
    }
    Track t = users.get(sent.chatId());
    if (t == null || !sent.method().equals("sendMessage") || sent.text() == null) {
      return;
    }
    String text = sent.text();
    synchronized (t) {
      if (text.startsWith(OUTPUT)) {
        int index = Integer.parseInt(text.substring(OUTPUT.length()).strip());
        if (index < 1 || index > outputs) {
          return;
        }
        if (t.arrived[index] != 0) {
          t.duplicates++;
          return;
        }
        t.arrived[index] = now;
        if (index == 1) {
          firstOutputs.incrementAndGet();
        }
        if (index != t.last + 1) {
          t.outOfOrder++;
        }
        t.last = Math.max(t.last, index);
        t.delivered++;
        delivered.incrementAndGet();
        firstArrival.accumulateAndGet(now, Math::min);
        lastArrival.accumulateAndGet(now, Math::max);
      } else if (!t.prompted) {
        t.prompted = true;
        prompted.incrementAndGet();
      } else if (text.startsWith("✅")) {
        t.completed = true;
        t.ending = text;
        completed.incrementAndGet();
        ended.incrementAndGet();
        running.decrementAndGet();
      } else if (isFailure(text)) {
        t.ending = text;
        ended.incrementAndGet();
        running.decrementAndGet();
      }
    }
  }

  private static boolean isFailure(String text) {
    return text.startsWith("❌") || text.startsWith("Ошибка загрузки")
        || text.startsWith("Превышено") || text.startsWith("Анализ отменён");
  }

  long firstArrival() {
    return firstArrival.get();
  }

  long lastArrival() {
    return lastArrival.get();
  }

  /** Frame-written to request-received times of every delivered output of these users. */
  Latency latency(Map<Long, String> taskOf) {
    return latency(taskOf, 1, outputs, Long.MIN_VALUE);
  }

  /**
   * The same, over outputs {@code from}..{@code to} of each job whose frame was written at or
   * after {@code notBefore} (System.nanoTime).
   */
  Latency latency(Map<Long, String> taskOf, int from, int to, long notBefore) {
    long[] values = new long[(int) Math.min(Integer.MAX_VALUE - 8, delivered.get())];
    int n = 0;
    for (Map.Entry<Long, String> e : taskOf.entrySet()) {
      Track t = users.get(e.getKey());
      long[] out = written.get(e.getValue());
      if (t == null || out == null) {
        continue;
      }
      synchronized (t) {
        for (int i = from; i <= Math.min(to, outputs); i++) {
          if (t.arrived[i] != 0 && out[i] != 0 && out[i] >= notBefore && n < values.length) {
            values[n++] = t.arrived[i] - out[i];
          }
        }
      }
    }
    Arrays.sort(values, 0, n);
    return new Latency(n, pct(values, n, 0.50), pct(values, n, 0.95), pct(values, n, 0.99),
        n == 0 ? Double.NaN : values[n - 1] / 1e6);
  }

  private static double pct(long[] sorted, int n, double q) {
    if (n == 0) {
      return Double.NaN;
    }
    int at = (int) Math.ceil(q * n) - 1;
    return sorted[Math.max(0, Math.min(n - 1, at))] / 1e6;
  }

  /** Commands injected so far, and how many of them got a reply. */
  int[] commandsAnswered() {
    int answered = 0;
    for (long[] c : commands.values()) {
      synchronized (c) {
        answered += c[1] != 0 ? 1 : 0;
      }
    }
    return new int[] {commands.size(), answered};
  }

  /** From injecting each command to its first reply at the Bot API emulator, over those answered. */
  Latency commandLatency() {
    long[] values = new long[commands.size()];
    int n = 0;
    for (long[] c : commands.values()) {
      synchronized (c) {
        if (c[1] != 0 && n < values.length) {
          values[n++] = c[1] - c[0];
        }
      }
    }
    Arrays.sort(values, 0, n);
    return new Latency(n, pct(values, n, 0.50), pct(values, n, 0.95), pct(values, n, 0.99),
        n == 0 ? Double.NaN : values[n - 1] / 1e6);
  }

  /**
   * For jobs that were not meant to finish: repeated and out-of-order outputs of these users, and
   * {@code unanswered} (commands without a reply) as missing.
   */
  Faults streamingFaults(Collection<Long> of, long unanswered) {
    long duplicates = 0;
    long outOfOrder = 0;
    for (Long user : of) {
      Track t = users.get(user);
      synchronized (t) {
        duplicates += t.duplicates;
        outOfOrder += t.outOfOrder;
      }
    }
    return new Faults(unanswered, duplicates, outOfOrder, 0,
        unanswered > 0 ? unanswered + " commands without a reply" : null);
  }

  /** Output arrival times of one user, in index order (0 for an output that never came). */
  long[] arrivals(long user) {
    Track t = users.get(user);
    synchronized (t) {
      return t.arrived.clone();
    }
  }

  /** Missing, duplicated and out-of-order outputs, and jobs not completed, over these users. */
  Faults faults(Collection<Long> of) {
    long missing = 0;
    long duplicates = 0;
    long outOfOrder = 0;
    long notCompleted = 0;
    String example = null;
    for (Long user : of) {
      Track t = users.get(user);
      synchronized (t) {
        missing += outputs - t.delivered;
        duplicates += t.duplicates;
        outOfOrder += t.outOfOrder;
        if (!t.completed) {
          notCompleted++;
          if (example == null) {
            example = "user " + user + ": " + t.delivered + " outputs, ended with "
                + (t.ending == null ? "nothing" : "\"" + t.ending + "\"");
          }
        }
      }
    }
    return new Faults(missing, duplicates, outOfOrder, notCompleted, example);
  }

  /** What went wrong; {@code example} describes one unfinished job, or is null. */
  record Faults(long missing, long duplicates, long outOfOrder, long notCompleted, String example) {
    long total() {
      return missing + duplicates + outOfOrder + notCompleted;
    }
  }

  /** When the last of these jobs had its first frame written (System.nanoTime); 0 if none. */
  long lastFirstFrame(Map<Long, String> taskOf) {
    long last = 0;
    for (String task : taskOf.values()) {
      long[] out = written.get(task);
      if (out != null && out.length > 1 && out[1] != 0) {
        last = Math.max(last, out[1]);
      }
    }
    return last;
  }
}
