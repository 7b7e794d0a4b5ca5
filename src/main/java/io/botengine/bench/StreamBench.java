package io.botengine.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.RunnerEmulator;
import io.botengine.sandbox.RunnerScenario;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The streamed-answer benchmark (issue 14): {@code users} users, each streaming one output of
 * {@code deltas} deltas over about {@code seconds} seconds, against an engine in a JVM of its own
 * in draft mode, without rate limits. Prints Telegram calls per streamed output (drafts, and the
 * real messages that deliver it), delta-to-preview latency (from the Runner emulator writing a
 * delta until a draft or message showing it reached the Bot API emulator), engine CPU per delta,
 * and how long after the Runner's complete frame the output was complete in the chat. Arguments
 * {@code key=value}: users, deltas, seconds, heap, out.
 */
public final class StreamBench {
  private static final byte[] CV = "Иван Петров\nJava, 7 лет".getBytes(StandardCharsets.UTF_8);
  private static final Pattern LAST_TOKEN = Pattern.compile("w(\\d+)\\s*$");

  private StreamBench() {}

  public static void main(String[] args) throws Exception {
    io.botengine.Main.keepAsyncCallbacksOnAPool();
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(ch.qos.logback.classic.Level.WARN);
    Map<String, String> s = new LinkedHashMap<>(Map.of("users", "1000", "deltas", "2000",
        "seconds", "20", "heap", "2g", "out", "target/bench"));
    for (String arg : args) {
      s.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
    }
    System.out.println(run(Integer.parseInt(s.get("users")), Integer.parseInt(s.get("deltas")),
        Integer.parseInt(s.get("seconds")), s.get("heap"), Path.of(s.get("out"))));
    System.exit(0);
  }

  /** One run; returns the report (Markdown lines). */
  static String run(int users, int deltas, int seconds, String heap, Path out) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "stream-bench",
        ConfigFactory.parseString("akka.actor.provider = local\nakka.remote.artery.enabled = off\n"
            + "akka.loglevel = WARNING\nakka.http.server.max-connections = 65536\n"
            + "akka.http.server.backlog = 4096\n").withFallback(ConfigFactory.load()));
    BotApiEmulator bot = BotApiEmulator.start(system, "127.0.0.1", 0, Benchmark.TOKEN);
    RunnerEmulator runner = RunnerEmulator.start(system, "127.0.0.1", 0, Benchmark.RUNNER_KEY);
    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= deltas; i++) {
      text.append('w').append(i).append(i == deltas ? "" : " ");
    }
    String answer = text.toString();
    // Frames: output 1, the deltas, output 2 complete, a file, the final frame; paced evenly.
    Duration pacing = Duration.ofNanos(Duration.ofSeconds(seconds).toNanos() / (deltas + 4));
    RunnerScenario scenario = RunnerScenario.streamed("STREAM_BENCH", answer, pacing);
    Map<String, long[]> written = new ConcurrentHashMap<>();
    int frames = scenario.frames().size();
    runner.onFrameWritten((task, position) -> {
      long[] times = written.computeIfAbsent(task, t -> new long[frames + 1]);
      if (position <= frames && times[position] == 0) {
        times[position] = epochNanos(Instant.now());
      }
    });
    AtomicInteger prompted = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    bot.onSent(sent -> {
      if (sent.method().equals("sendMessage") && sent.text() != null) {
        if (sent.text().startsWith("📄")) {
          prompted.incrementAndGet();
        } else if (sent.text().startsWith("✅")) {
          done.incrementAndGet();
        }
      }
    });
    Map<String, String> engine = new LinkedHashMap<>();
    engine.put("bot.telegram.token", Benchmark.TOKEN);
    engine.put("bot.telegram.api-url", bot.baseUrl());
    engine.put("bot.runner.url", runner.baseUrl());
    engine.put("bot.runner.api-key", Benchmark.RUNNER_KEY);
    engine.put("bot.http.host", "127.0.0.1");
    engine.put("bot.http.port", "0");
    engine.put("bot.cluster.port", "0");
    engine.put("bot.persistence.jdbc-url", "jdbc:h2:file:"
        + out.toAbsolutePath().resolve("stream-" + System.currentTimeMillis()).resolve("journal"));
    engine.put("bot.telegram.delivery.global-rate", "0");
    engine.put("bot.telegram.delivery.chat-rate", "0");
    engine.put("bot.streaming.mode", "draft");
    engine.put("akka.coordinated-shutdown.exit-jvm", "off");
    EngineProcess process = EngineProcess.start(engine, heap, List.of(),
        out.toAbsolutePath().resolve("stream.log"));
    try {
      List<Long> ids = new ArrayList<>();
      for (int i = 0; i < users; i++) {
        long user = 2_000_000L + i;
        ids.add(user);
        runner.scenarioFor(user, scenario);
        bot.sendText(user, "/cv", "ru");
      }
      await(() -> prompted.get() >= users, process, "prompts");
      EngineProcess.Stats before = process.stats();
      for (long user : ids) {
        bot.sendDocument(user, "cv.txt", "text/plain", CV);
      }
      await(() -> done.get() >= users, process, "jobs");
      EngineProcess.Stats after = process.stats();
      return report(users, deltas, seconds, bot, runner, ids, written, after.cpu() - before.cpu());
    } finally {
      process.close();
      runner.close();
      bot.close();
      system.terminate();
    }
  }

  private static String report(int users, int deltas, int seconds, BotApiEmulator bot,
      RunnerEmulator runner, List<Long> ids, Map<String, long[]> written, long engineCpuNanos) {
    Map<Long, String> taskOf = new LinkedHashMap<>();
    runner.uploads().forEach(u -> taskOf.put(u.telegramId(), u.taskId()));
    List<Double> latencies = new ArrayList<>();
    List<Double> lags = new ArrayList<>();
    long drafts = 0;
    long parts = 0;
    int faults = 0;
    for (long user : ids) {
      long[] times = written.get(taskOf.get(user));
      int covered = 0;
      long lastPart = 0;
      int partsOfUser = 0;
      for (BotApiEmulator.Sent sent : bot.sentTo(user)) {
        boolean draft = sent.method().equals("sendMessageDraft");
        boolean part = sent.method().equals("sendMessage") && sent.text() != null
            && sent.text().startsWith("w");
        if (!draft && !part) {
          continue;
        }
        drafts += draft ? 1 : 0;
        partsOfUser += part ? 1 : 0;
        long at = epochNanos(sent.at());
        if (part) {
          lastPart = at;
        }
        Matcher m = LAST_TOKEN.matcher(sent.text());
        int shows = m.find() ? Integer.parseInt(m.group(1)) : covered;
        for (int k = covered + 1; k <= shows; k++) {
          latencies.add((at - times[1 + k]) / 1e6);
        }
        covered = Math.max(covered, shows);
      }
      parts += partsOfUser;
      if (covered != deltas) {
        faults++;
      }
      lags.add((lastPart - times[deltas + 2]) / 1e6);
    }
    return String.format(Locale.ROOT,
        "| users x deltas | Telegram calls per streamed output (drafts + messages) | delta to"
            + " preview p50 / p99 ms | engine CPU µs per delta | complete after the Runner's"
            + " frame p50 / p99 ms | faults |%n|---|---:|---:|---:|---:|---:|%n"
            + "| %d x %d over %d s | %.1f (%.1f + %.1f) | %.0f / %.0f | %.1f | %.0f / %.0f"
            + " | %d |%n",
        users, deltas, seconds, (drafts + parts) / (double) users, drafts / (double) users,
        parts / (double) users, pct(latencies, 50), pct(latencies, 99),
        engineCpuNanos / 1000.0 / ((long) users * deltas), pct(lags, 50), pct(lags, 99), faults);
  }

  private static double pct(List<Double> values, int p) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static long epochNanos(Instant at) {
    return at.getEpochSecond() * 1_000_000_000L + at.getNano();
  }

  private static void await(java.util.function.BooleanSupplier condition, EngineProcess process,
      String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (!process.alive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("gave up waiting for " + what);
      }
      Thread.sleep(20);
    }
  }
}
