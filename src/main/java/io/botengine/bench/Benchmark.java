package io.botengine.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.RunnerEmulator;
import io.botengine.sandbox.RunnerScenario;
import java.io.IOException;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * How much one node carries, and how close to the limit. Starts the Bot API and Runner emulators
 * in this JVM, measures the Bot API emulator's own maximum with a plain HTTP load generator, then
 * runs each scenario against a fresh engine in a child JVM ({@link EngineNode}) on its own
 * journal (H2 in the engine's JVM, or with {@code journal=postgres} a fresh database on the
 * PostgreSQL server at {@code journal.postgres}, user postgres, dropped afterwards): simulated users send /cv and a TXT file, the Runner emulator streams each job's outputs
 * ("Вывод 1".."Вывод M"), and the emulators record when each frame left and each output arrived.
 * Scenario e measures instead how fast users' commands are answered while jobs stream under the
 * bot-wide limit. Prints one Markdown table. Arguments: scenario names
 * ({@code limit a a-paced b c d e}; default all)
 * and {@code key=value} settings (see {@link #DEFAULTS}); {@code quick} picks tiny sizes.
 * Progress goes to stderr, the table to stdout; engine logs to {@code out}/&lt;scenario&gt;.log.
 */
public final class Benchmark {
  static final String TOKEN = "123456:bench-token";
  static final String RUNNER_KEY = "bench-runner-key";
  static final String POSTGRES_USER = "postgres";
  private static final byte[] CV =
      "Иван Петров\nJava-разработчик, 7 лет опыта.\nAkka, Kafka, PostgreSQL.\n"
          .getBytes(StandardCharsets.UTF_8);

  /** Every setting with its default; sizes follow the issue, durations the Runner's pace. */
  static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("a.users", "1000");
    DEFAULTS.put("a.outputs", "50");
    DEFAULTS.put("a-paced.load", "0.25,0.5");
    DEFAULTS.put("a-paced.pacing", "2s");
    DEFAULTS.put("b.streams", "10000");
    DEFAULTS.put("b.outputs", "6");
    DEFAULTS.put("b.pacing", "30s");
    DEFAULTS.put("b.hold", "60s");
    DEFAULTS.put("c.outputs", "10000");
    DEFAULTS.put("d.outputs", "10000");
    DEFAULTS.put("d.rate", "30");
    DEFAULTS.put("d.chat-rate", "0");
    DEFAULTS.put("d.chat-burst", "3");
    DEFAULTS.put("e.users", "1000");
    DEFAULTS.put("e.outputs", "1000");
    DEFAULTS.put("e.pacing", "1s");
    DEFAULTS.put("e.rate", "30");
    DEFAULTS.put("e.chat-rate", "1");
    DEFAULTS.put("e.chat-burst", "3");
    DEFAULTS.put("e.commands", "300");
    DEFAULTS.put("e.command-every", "200ms");
    DEFAULTS.put("e.command", "/balance");
    DEFAULTS.put("warmup.users", "1000");
    DEFAULTS.put("warmup.outputs", "50");
    DEFAULTS.put("warmup.rounds", "5");
    DEFAULTS.put("limit.levels", "4,16,64,256");
    DEFAULTS.put("limit.seconds", "5");
    DEFAULTS.put("heap", "2g");
    DEFAULTS.put("jvm", "");
    DEFAULTS.put("journal", "h2");
    DEFAULTS.put("journal.postgres", "jdbc:postgresql://127.0.0.1:5432/postgres");
    DEFAULTS.put("timeout", "30m");
    DEFAULTS.put("out", "target/bench");
  }

  /** Tiny sizes, for a smoke run. */
  static final Map<String, String> QUICK =
      Map.ofEntries(
          Map.entry("a.users", "20"),
          Map.entry("a.outputs", "10"),
          Map.entry("a-paced.pacing", "200ms"),
          Map.entry("b.streams", "40"),
          Map.entry("b.outputs", "3"),
          Map.entry("b.pacing", "1s"),
          Map.entry("b.hold", "2s"),
          Map.entry("c.outputs", "200"),
          Map.entry("d.outputs", "60"),
          Map.entry("e.users", "20"),
          Map.entry("e.outputs", "200"),
          Map.entry("e.pacing", "200ms"),
          Map.entry("e.commands", "10"),
          Map.entry("e.command-every", "100ms"),
          Map.entry("warmup.users", "5"),
          Map.entry("warmup.outputs", "10"),
          Map.entry("warmup.rounds", "1"),
          Map.entry("limit.levels", "4"),
          Map.entry("limit.seconds", "1"),
          Map.entry("heap", "1g"),
          Map.entry("timeout", "3m"));

  static final List<String> SCENARIOS = List.of("limit", "a", "a-paced", "b", "c", "d", "e");

  /** One row of the table. */
  record Row(
      String scenario,
      String setup,
      long outputs,
      Recorder.Faults faults,
      double seconds,
      double rate,
      Recorder.Latency latency,
      double peakHeapMb,
      double heapPerJobKb,
      int streams,
      double cpuMicrosPerOutput,
      double journalRowsPerOutput,
      int warnings,
      int errors,
      List<String> notes) {}

  private final Map<String, String> settings;
  private final PrintStream progress;
  private final Path out;
  private final ActorSystem<Void> system;
  private final List<Row> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private EngineProcess engine;
  private Path engineLog;
  private String postgresJournal;
  private double limit = Double.NaN;
  private double ceilingA = Double.NaN;
  private double ceilingC = Double.NaN;
  private long nextUser = 1_000_000;

  private Benchmark(Map<String, String> settings, PrintStream progress) {
    this.settings = settings;
    this.progress = progress;
    this.out = Path.of(settings.get("out")).toAbsolutePath();
    this.system =
        ActorSystem.create(
            Behaviors.empty(),
            "bench-emulators",
            ConfigFactory.parseString(
                    "akka.actor.provider = local\n"
                        + "akka.remote.artery.enabled = off\n"
                        + "akka.loglevel = WARNING\n"
                        + "akka.coordinated-shutdown.exit-jvm = off\n"
                        + "akka.http.server.max-connections = 65536\n"
                        // The Bot API emulator's accept queue: the engine's client opens up to
                        // max-requests connections at once, and a dropped SYN costs it 1 s or more.
                        + "akka.http.server.backlog = 4096\n")
                .withFallback(ConfigFactory.load()));
  }

  public static void main(String[] args) {
    io.botengine.Main.keepAsyncCallbacksOnAPool();
    quietLogs();
    String table = run(Arrays.asList(args), System.err);
    System.out.println(table);
    System.exit(0);
  }

  /** Runs the scenarios named in {@code args} with the settings given there; returns the table. */
  public static String run(List<String> args, PrintStream progress) {
    Map<String, String> settings = new LinkedHashMap<>(DEFAULTS);
    Set<String> chosen = new LinkedHashSet<>();
    for (String arg : args) {
      if (arg.equals("quick")) {
        settings.putAll(QUICK);
      } else if (arg.contains("=")) {
        String key = arg.substring(0, arg.indexOf('='));
        if (!DEFAULTS.containsKey(key)) {
          throw new IllegalArgumentException("unknown setting " + key + "; known: "
              + DEFAULTS.keySet());
        }
        settings.put(key, arg.substring(arg.indexOf('=') + 1));
      } else if (SCENARIOS.contains(arg)) {
        chosen.add(arg);
      } else {
        throw new IllegalArgumentException("unknown scenario " + arg + "; known: " + SCENARIOS);
      }
    }
    if (chosen.isEmpty()) {
      chosen.addAll(SCENARIOS);
    }
    chosen.add("limit");
    Benchmark bench = new Benchmark(settings, progress);
    try {
      String before = loadAverage();
      for (String scenario : SCENARIOS) {
        if (chosen.contains(scenario)) {
          bench.run(scenario);
        }
      }
      if (chosen.size() > 1) {
        bench.measureLimit("after the scenarios");
      }
      bench.notes.add("load average (1/5/15 min) before: " + before + ", after: " + loadAverage());
      return bench.table();
    } finally {
      bench.system.terminate();
    }
  }

  private void run(String scenario) {
    progress.printf("== %s%n", scenario);
    switch (scenario) {
      case "limit" -> measureLimit("before the scenarios");
      case "a" -> {
        Row row = engineRun("a", users("a.users"), count("a.outputs"), Duration.ZERO, 0, true,
            null);
        ceilingA = row.rate();
        rows.add(row);
      }
      case "a-paced" -> {
        int users = users("a.users");
        // Without (a)'s ceiling in this run, once at the fixed a-paced.pacing.
        String[] loads = Double.isNaN(ceilingA) ? new String[] {"0"}
            : settings.get("a-paced.load").split(",");
        for (String load : loads) {
          Duration pacing = Double.isNaN(ceilingA)
              ? duration("a-paced.pacing")
              : Duration.ofMillis(Math.max(1,
                  Math.round(users / (Double.parseDouble(load) * ceilingA) * 1000)));
          String name = Double.isNaN(ceilingA) ? "a-paced"
              : String.format(Locale.ROOT, "a-paced %.0f%%", 100 * Double.parseDouble(load));
          rows.add(engineRun(name, users, count("a.outputs"), pacing, 0, true, null));
        }
      }
      case "b" -> rows.add(engineRun("b", users("b.streams"), count("b.outputs"),
          duration("b.pacing"), 0, false, duration("b.hold")));
      case "c" -> {
        Row row = engineRun("c", 1, count("c.outputs"), Duration.ZERO, 0, true, null);
        ceilingC = row.rate();
        rows.add(row);
      }
      case "d" -> rows.add(engineRun("d", 1, count("d.outputs"), Duration.ZERO,
          Double.parseDouble(settings.get("d.rate")), false, null));
      case "e" -> rows.add(commandRun());
      default -> throw new IllegalArgumentException(scenario);
    }
  }

  // ---------------------------------------------------------------- the limit

  /**
   * The emulator's own maximum: a warm-up at the highest concurrency, then each level; the best
   * level counts. Measured before the scenarios and again after them (JIT warm), the higher wins.
   */
  private void measureLimit(String when) {
    BotApiEmulator bot = BotApiEmulator.start(system, "127.0.0.1", 0, TOKEN);
    try {
      long chat = nextUser++;
      bot.sendText(chat, "/start", "ru");
      int[] levels =
          Arrays.stream(settings.get("limit.levels").split(",")).mapToInt(Integer::parseInt)
              .toArray();
      List<DirectLoad.Level> measured =
          DirectLoad.measure(bot.port(), TOKEN, chat, levels,
              Duration.ofSeconds(Long.parseLong(settings.get("limit.seconds"))));
      DirectLoad.Level best =
          measured.stream().max((x, y) -> Double.compare(x.perSecond(), y.perSecond())).get();
      limit = Double.isNaN(limit) ? best.perSecond() : Math.max(limit, best.perSecond());
      notes.add(String.format(Locale.ROOT,
          "limit %s: the Bot API emulator alone, sendMessage over loopback keep-alive"
              + " connections: %s", when,
          measured.stream()
              .map(l -> String.format(Locale.ROOT, "%d conn %.0f/s%s", l.connections(),
                  l.perSecond(), l.errors() > 0 ? " (" + l.errors() + " errors)" : ""))
              .collect(Collectors.joining(", "))));
      progress.printf(Locale.ROOT, "limit %s: %.0f requests/s%n", when, best.perSecond());
    } finally {
      bot.close();
    }
  }

  // ---------------------------------------------------------------- engine scenarios

  /**
   * One scenario: {@code users} jobs of {@code outputs} outputs each, frames {@code pacing} apart;
   * {@code globalRate} 0 runs without rate limits. With {@code hold}, all streams must be open at
   * once and are held that long.
   */
  private Row engineRun(String name, int users, int outputs, Duration pacing, double globalRate,
      boolean warmup, Duration hold) {
    Duration timeout = duration("timeout");
    BotApiEmulator bot = BotApiEmulator.start(system, "127.0.0.1", 0, TOKEN);
    RunnerEmulator runner = RunnerEmulator.start(system, "127.0.0.1", 0, RUNNER_KEY);
    String file = name.replaceAll("[^A-Za-z0-9-]+", "-");
    boolean limited = globalRate > 0;
    EngineProcess engine = startEngine(file, bot, runner, globalRate,
        limited ? settings.get("d.chat-rate") : "0", limited ? settings.get("d.chat-burst") : "3");
    StreamSampler streams = new StreamSampler(runner);
    try {
      String warmedUp = warmup ? warmUp(engine, bot, runner, timeout) : null;
      Recorder rec = new Recorder(outputs);
      bot.onSent(rec::onSent);
      runner.onFrameWritten(rec::onFrameWritten);
      List<Long> ids = newUsers(users);
      EngineProcess.Stats before = engine.afterGc();
      engine.resetPeak();
      long[] machineBefore = machineCpu();
      long driverBefore = driverCpu();
      streams.start();
      progress.printf(Locale.ROOT, "%s: %d users x %d outputs, frames %s apart, global rate %s%n",
          name, users, outputs, human(pacing), globalRate > 0 ? fmt(globalRate) + "/s" : "off");
      long start = System.nanoTime();
      List<String> runNotes = new ArrayList<>();
      if (warmedUp != null) {
        runNotes.add(name + ": " + warmedUp);
      }
      AtomicLong liveHeap = new AtomicLong(-1);
      long t0 = drive(bot, runner, rec, ids, RunnerScenario.manyOutputs(outputs, pacing), timeout,
          hold == null ? null : () -> holdStreams(engine, streams, users, hold, liveHeap, runNotes));
      EngineProcess.Stats after = engine.stats();
      long[] machineAfter = machineCpu();
      long driverAfter = driverCpu();
      streams.stop();
      double seconds = (rec.lastArrival() - t0) / 1e9;
      long delivered = rec.delivered.get();
      Map<Long, String> taskOf = new LinkedHashMap<>();
      for (RunnerEmulator.Upload upload : runner.uploads()) {
        if (upload.taskId() != null) {
          taskOf.put(upload.telegramId(), upload.taskId());
        }
      }
      taskOf.keySet().retainAll(Set.copyOf(ids));
      Recorder.Latency latency = rec.latency(taskOf);
      if (users > 1 && outputs > 1) {
        long allStarted = rec.lastFirstFrame(taskOf);
        runNotes.add(String.format(Locale.ROOT,
            "%s: latency p50 / p95 / p99 ms of each job's first output %s; of the others %s;"
                + " of the outputs whose frame left after every job had started %s", name,
            percentiles(rec.latency(taskOf, 1, 1, Long.MIN_VALUE)),
            percentiles(rec.latency(taskOf, 2, outputs, Long.MIN_VALUE)),
            percentiles(rec.latency(taskOf, 1, outputs, allStarted))));
      }
      Recorder.Faults faults = rec.faults(ids);
      double heapPerJob = liveHeap.get() < 0 ? Double.NaN
          : (liveHeap.get() - before.heap()) / 1024.0 / users;
      if (name.equals("d") || name.equals("c")) {
        perChatNotes(name, rec, ids.get(0), outputs, globalRate, runNotes);
      }
      if (hold != null) {
        long late = latency.max() > 5000 ? 1 : 0;
        runNotes.add(String.format(Locale.ROOT,
            "b: slowest output %.0f ms after its frame left the Runner emulator; %s",
            latency.max(), faults.total() == 0 && late == 0 ? "none starved" : "STARVED"));
      }
      if (machineBefore != null && machineAfter != null) {
        double all = (machineAfter[1] - machineBefore[1]) * 1e7;
        double busy = (machineAfter[0] - machineBefore[0]) * 1e7;
        double engineCpu = after.cpu() - before.cpu();
        double driverCpu = driverAfter - driverBefore;
        runNotes.add(String.format(Locale.ROOT,
            "%s: CPU of the machine while it ran: engine %.0f%%, emulators and driver %.0f%%,"
                + " other processes %.0f%%, idle %.0f%%", name, 100 * engineCpu / all,
            100 * driverCpu / all, Math.max(0, 100 * (busy - engineCpu - driverCpu) / all),
            100 * (all - busy) / all));
      }
      runNotes.add(rssNote(name, after));
      runNotes.add(cpuByThreadNote(name, before, after, delivered));
      if (faults.example() != null) {
        runNotes.add(name + ": unfinished: " + faults.example());
      }
      if (engine.warnings() + engine.errors() > 0) {
        runNotes.add(name + ": first engine warnings: " + engine.firstProblems());
      }
      progress.printf(Locale.ROOT,
          "%s: %d outputs in %.1f s, %.0f/s, %d faults; engine CPU %.1f s (%.0f%% kernel, %.0f%%"
              + " JIT), %d GCs %d ms, %d threads at most%n", name, delivered, seconds,
          delivered / seconds, faults.total(), (after.cpu() - before.cpu()) / 1e9,
          100.0 * (after.sys() - before.sys()) / Math.max(1, after.cpu() - before.cpu()),
          100.0 * (after.jit() - before.jit()) / Math.max(1, after.cpu() - before.cpu()),
          after.gcCount() - before.gcCount(), after.gcMillis() - before.gcMillis(),
          after.peakThreads());
      String setup = users + " x " + outputs
          + (pacing.isZero() ? "" : ", every " + human(pacing))
          + (globalRate > 0 ? ", " + fmt(globalRate) + "/s limit" : "")
          + (globalRate > 0 && Double.parseDouble(settings.get("d.chat-rate")) > 0
              ? ", " + settings.get("d.chat-rate") + "/s per chat (burst "
                  + settings.get("d.chat-burst") + ")" : "");
      return new Row(
          name,
          setup,
          delivered,
          faults,
          (System.nanoTime() - start) / 1e9,
          delivered / seconds,
          latency,
          after.peak() / 1048576.0,
          heapPerJob,
          Math.max(streams.max(), rec.mostRunning()),
          (after.cpu() - before.cpu()) / 1000.0 / Math.max(1, delivered),
          (after.events() - before.events()) / (double) Math.max(1, delivered),
          engine.warnings(),
          engine.errors(),
          runNotes);
    } finally {
      streams.stop();
      engine.close();
      dropPostgresJournal();
      runner.close();
      bot.close();
    }
  }

  /**
   * {@code warmup.rounds} rounds of {@code warmup.users} x {@code warmup.outputs} at full speed.
   * One round left the JIT compilers at 15-37% of the engine's CPU in the run measured after it:
   * much of a job's code (its actors, streams, connection and upload) runs once per job, and
   * reaches the compilers' thresholds only after thousands of jobs. Returns what it did, and the
   * JIT's share of the last round, for the notes.
   */
  private String warmUp(EngineProcess engine, BotApiEmulator bot, RunnerEmulator runner,
      Duration timeout) {
    int warmUsers = users("warmup.users");
    int warmOutputs = count("warmup.outputs");
    int rounds = count("warmup.rounds");
    double jitShare = -1;
    for (int round = 1; round <= rounds; round++) {
      progress.printf("warm-up %d of %d: %d users x %d outputs%n", round, rounds, warmUsers,
          warmOutputs);
      Recorder warm = new Recorder(warmOutputs);
      bot.onSent(warm::onSent);
      runner.onFrameWritten(warm::onFrameWritten);
      EngineProcess.Stats before = engine.stats();
      drive(bot, runner, warm, newUsers(warmUsers),
          RunnerScenario.manyOutputs(warmOutputs, Duration.ZERO), timeout, null);
      EngineProcess.Stats after = engine.stats();
      jitShare = 100.0 * (after.jit() - before.jit()) / Math.max(1, after.cpu() - before.cpu());
      progress.printf(Locale.ROOT, "warm-up %d: JIT compilers %.0f%% of the engine's CPU%n",
          round, jitShare);
    }
    return String.format(Locale.ROOT, "warm-up: %d round%s of %d x %d, the JIT compilers %.0f%%"
        + " of the engine's CPU in the last", rounds, rounds == 1 ? "" : "s", warmUsers,
        warmOutputs, jitShare);
  }

  /**
   * Scenario e: {@code e.users} jobs stream {@code e.outputs} outputs each under the bot-wide and
   * per-chat limits; once every job has delivered its first output, {@code e.commands} other users
   * send {@code e.command}, one every {@code e.command-every}, and each reply is timed from the
   * command's injection until it reaches the Bot API emulator. The jobs are not awaited: the engine
   * is stopped once every command was answered.
   */
  private Row commandRun() {
    Duration timeout = duration("timeout");
    int users = users("e.users");
    int outputs = count("e.outputs");
    int commands = Integer.parseInt(settings.get("e.commands"));
    Duration every = duration("e.command-every");
    String command = settings.get("e.command");
    double globalRate = Double.parseDouble(settings.get("e.rate"));
    BotApiEmulator bot = BotApiEmulator.start(system, "127.0.0.1", 0, TOKEN);
    RunnerEmulator runner = RunnerEmulator.start(system, "127.0.0.1", 0, RUNNER_KEY);
    // Telegram's own answer to more than the limit within one second: the 429s drawn are counted.
    bot.strictRate((int) Math.round(globalRate));
    EngineProcess engine = startEngine("e", bot, runner, globalRate, settings.get("e.chat-rate"),
        settings.get("e.chat-burst"));
    StreamSampler streams = new StreamSampler(runner);
    try {
      Recorder rec = new Recorder(outputs);
      bot.onSent(rec::onSent);
      runner.onFrameWritten(rec::onFrameWritten);
      List<Long> ids = newUsers(users);
      List<Long> askers = newUsers(commands);
      EngineProcess.Stats before = engine.afterGc();
      engine.resetPeak();
      streams.start();
      progress.printf(Locale.ROOT, "e: %d users x %d outputs, frames %s apart, global rate %s/s,"
              + " per chat %s/s; then %d x %s every %s%n", users, outputs,
          human(duration("e.pacing")), fmt(globalRate), settings.get("e.chat-rate"), commands,
          command, human(every));
      long start = System.nanoTime();
      RunnerScenario scenario = RunnerScenario.manyOutputs(outputs, duration("e.pacing"));
      for (long user : ids) {
        rec.track(user);
        runner.scenarioFor(user, scenario);
      }
      for (long user : ids) {
        bot.sendText(user, "/cv", "ru");
      }
      await("prompts", () -> rec.prompted.get() >= users, timeout,
          () -> rec.prompted.get() + " of " + users + " prompted");
      long t0 = System.nanoTime();
      for (long user : ids) {
        bot.sendDocument(user, "cv.txt", "text/plain", CV);
      }
      await("all streams open", () -> streams.current() >= users, timeout,
          () -> streams.current() + " of " + users + " streams open");
      long open = System.nanoTime();
      await("every job's first output", () -> rec.firstOutputs.get() >= users, timeout,
          () -> rec.firstOutputs.get() + " of " + users + " jobs delivered a first output");
      long streaming = System.nanoTime();
      progress.printf(Locale.ROOT, "e: all %d streams open %.1f s after the first file, every job"
          + " delivered an output after %.1f s; commands start%n", users, (open - t0) / 1e9,
          (streaming - t0) / 1e9);
      int refusalsBefore = bot.rateRefusals();
      long outputsBefore = rec.delivered.get();
      long callsBefore = rec.calls.get();
      streams.resetMin();
      long next = System.nanoTime();
      for (long user : askers) {
        sleep(Duration.ofNanos(Math.max(0, next - System.nanoTime())));
        rec.commandSent(user);
        bot.sendText(user, command, "ru");
        next += every.toNanos();
      }
      long lastCommand = System.nanoTime();
      // Each command is answered within a minute or counted as unanswered.
      long deadline = lastCommand + Duration.ofSeconds(60).toNanos();
      while (rec.commandsAnswered()[1] < commands && System.nanoTime() < deadline) {
        sleep(Duration.ofMillis(20));
      }
      long end = System.nanoTime();
      double window = (end - streaming) / 1e9;
      long windowOutputs = rec.delivered.get() - outputsBefore;
      long windowCalls = rec.calls.get() - callsBefore;
      int windowRefusals = bot.rateRefusals() - refusalsBefore;
      int leastStreams = streams.min();
      EngineProcess.Stats after = engine.stats();
      streams.stop();
      int answered = rec.commandsAnswered()[1];
      Recorder.Latency latency = rec.commandLatency();
      Recorder.Faults faults = rec.streamingFaults(ids, commands - answered);
      List<String> runNotes = new ArrayList<>();
      runNotes.add(String.format(Locale.ROOT,
          "e: %s replies: %d of %d commands answered; p50 / p95 / p99 / max ms %s / %s / %s / %s,"
              + " from the user's message entering the Bot API emulator to the reply reaching it",
          command, answered, commands, ms(latency.p50()), ms(latency.p95()), ms(latency.p99()),
          ms(latency.max())));
      runNotes.add(String.format(Locale.ROOT,
          "e: the commands started once all %d streams were open (%.1f s after the first file)"
              + " and every job had delivered an output (%.1f s); the fewest streams open while"
              + " they ran: %d; meanwhile %.1f outputs/s and %.1f Bot API calls/s (all kinds)"
              + " reached the emulator; 429s drawn (more than %s calls within 1 s): %d while the"
              + " commands ran, %d over the whole run", users, (open - t0) / 1e9,
          (streaming - t0) / 1e9, leastStreams, windowOutputs / window, windowCalls / window,
          fmt(globalRate), windowRefusals, bot.rateRefusals()));
      runNotes.add(rssNote("e", after));
      if (engine.warnings() + engine.errors() > 0) {
        runNotes.add("e: first engine warnings: " + engine.firstProblems());
      }
      progress.printf(Locale.ROOT, "e: %d of %d commands answered, p99 %s ms; %d outputs, %d 429s%n",
          answered, commands, ms(latency.p99()), rec.delivered.get(), bot.rateRefusals());
      long delivered = rec.delivered.get();
      return new Row(
          "e",
          String.format(Locale.ROOT, "%d x %d streaming, %s/s limit, %s/s per chat (burst %s);"
                  + " then %d x %s every %s", users, outputs, fmt(globalRate),
              settings.get("e.chat-rate"), settings.get("e.chat-burst"), commands, command,
              human(every)),
          delivered,
          faults,
          (System.nanoTime() - start) / 1e9,
          windowOutputs / window,
          latency,
          after.peak() / 1048576.0,
          Double.NaN,
          Math.max(streams.max(), rec.mostRunning()),
          (after.cpu() - before.cpu()) / 1000.0 / Math.max(1, delivered),
          (after.events() - before.events()) / (double) Math.max(1, delivered),
          engine.warnings(),
          engine.errors(),
          runNotes);
    } finally {
      streams.stop();
      engine.close();
      dropPostgresJournal();
      runner.close();
      bot.close();
    }
  }

  /** The engine's resident memory now and at its highest, against its -Xmx. */
  /**
   * The engine's CPU split by thread: the JIT compilers (still compiling after the warm-up, which
   * a long-running engine would have done long before) and the GC threads, apart from the rest.
   */
  private static String cpuByThreadNote(
      String name, EngineProcess.Stats before, EngineProcess.Stats after, long delivered) {
    double all = Math.max(1, after.cpu() - before.cpu());
    long jit = after.jit() - before.jit();
    long gc = after.gcThreads() - before.gcThreads();
    return String.format(Locale.ROOT,
        "%s: engine CPU by thread: JIT compilers %.0f%%, GC threads %.0f%%, the rest %.0f µs per"
            + " output", name, 100 * jit / all, 100 * gc / all,
        (all - jit - gc) / 1000.0 / Math.max(1, delivered));
  }

  private String rssNote(String name, EngineProcess.Stats stats) {
    return String.format(Locale.ROOT,
        "%s: engine resident memory (RSS) %.0f MB at the end, %.0f MB at most (VmHWM), with"
            + " -Xmx%s", name, stats.rss() / 1048576.0, stats.rssPeak() / 1048576.0,
        settings.get("heap"));
  }

  /**
   * A fresh engine on a fresh journal against these emulators, with these rate limits (0: none);
   * its log goes to {@code out}/&lt;file&gt;.log.
   */
  private EngineProcess startEngine(String file, BotApiEmulator bot, RunnerEmulator runner,
      double globalRate, String chatRate, String chatBurst) {
    Path dir = out.resolve(file + "-" + System.currentTimeMillis());
    Map<String, String> engineSettings = new LinkedHashMap<>();
    engineSettings.put("bot.telegram.token", TOKEN);
    engineSettings.put("bot.telegram.api-url", bot.baseUrl());
    engineSettings.put("bot.runner.url", runner.baseUrl());
    engineSettings.put("bot.runner.api-key", RUNNER_KEY);
    engineSettings.put("bot.http.host", "127.0.0.1");
    engineSettings.put("bot.http.port", "0");
    engineSettings.put("bot.cluster.port", "0");
    if ("postgres".equals(settings.get("journal"))) {
      postgresJournal = createPostgresJournal("bench_" + file.replace('-', '_') + "_"
          + System.currentTimeMillis());
      engineSettings.put("bot.persistence.jdbc-url", postgresJournal);
      engineSettings.put("bot.persistence.user", POSTGRES_USER);
    } else if ("h2".equals(settings.get("journal"))) {
      engineSettings.put("bot.persistence.jdbc-url", "jdbc:h2:file:" + dir.resolve("journal"));
    } else {
      throw new IllegalArgumentException("journal must be h2 or postgres: " + settings.get("journal"));
    }
    engineSettings.put("bot.telegram.delivery.global-rate", Double.toString(globalRate));
    engineSettings.put("bot.telegram.delivery.chat-rate", chatRate);
    engineSettings.put("bot.telegram.delivery.chat-burst", chatBurst);
    engineSettings.put("akka.coordinated-shutdown.exit-jvm", "off");
    List<String> jvm =
        settings.get("jvm").isBlank() ? List.of() : List.of(settings.get("jvm").split(" +"));
    Path log = out.resolve(file + ".log");
    this.engineLog = log;
    this.engine = EngineProcess.start(engineSettings, settings.get("heap"), jvm, log);
    return engine;
  }

  /** Creates an empty database on the PostgreSQL server of {@code journal.postgres}; its URL. */
  private String createPostgresJournal(String name) {
    String admin = settings.get("journal.postgres");
    try (Connection c = DriverManager.getConnection(admin, POSTGRES_USER, "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("journal=postgres: cannot create a database on " + admin
          + " as " + POSTGRES_USER + ": " + e.getMessage(), e);
    }
    return admin.substring(0, admin.lastIndexOf('/') + 1) + name;
  }

  /** Drops the database {@link #createPostgresJournal} made for the engine just stopped. */
  private void dropPostgresJournal() {
    if (postgresJournal == null) {
      return;
    }
    String name = postgresJournal.substring(postgresJournal.lastIndexOf('/') + 1);
    postgresJournal = null;
    try (Connection c = DriverManager.getConnection(
            settings.get("journal.postgres"), POSTGRES_USER, "");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      progress.println("could not drop the journal database " + name + ": " + e.getMessage());
    }
  }

  /**
   * Sends /cv for every user, waits for every prompt, sends every file (the returned time), runs
   * {@code whileRunning} once all files are sent, and waits until every job ended.
   */
  private long drive(BotApiEmulator bot, RunnerEmulator runner, Recorder rec, List<Long> users,
      RunnerScenario scenario, Duration timeout, Runnable whileRunning) {
    for (long user : users) {
      rec.track(user);
      runner.scenarioFor(user, scenario);
    }
    for (long user : users) {
      bot.sendText(user, "/cv", "ru");
    }
    await("prompts", () -> rec.prompted.get() >= users.size(), timeout,
        () -> rec.prompted.get() + " of " + users.size() + " prompted");
    long t0 = System.nanoTime();
    for (long user : users) {
      bot.sendDocument(user, "cv.txt", "text/plain", CV);
    }
    if (whileRunning != null) {
      whileRunning.run();
    }
    await("jobs", () -> rec.ended.get() >= users.size(), timeout,
        () -> rec.ended.get() + " of " + users.size() + " jobs ended, "
            + rec.delivered.get() + " outputs, " + runner.openStreams() + " streams open");
    return t0;
  }

  /** Waits until every stream is open, then keeps them a while and weighs the live heap. */
  private void holdStreams(EngineProcess engine, StreamSampler streams, int users, Duration hold,
      AtomicLong liveHeap, List<String> runNotes) {
    long rampStart = System.nanoTime();
    await("all streams open", () -> streams.current() >= users, duration("timeout"),
        () -> streams.current() + " of " + users + " streams open");
    long open = System.nanoTime();
    streams.resetMin();
    progress.printf(Locale.ROOT, "b: all %d streams open after %.1f s; holding %s%n", users,
        (open - rampStart) / 1e9, human(hold));
    sleep(hold.dividedBy(2));
    EngineProcess.Stats mid = engine.afterGc();
    liveHeap.set(mid.heap());
    sleep(hold.minus(hold.dividedBy(2)));
    int least = streams.min();
    double held = (System.nanoTime() - open) / 1e9;
    runNotes.add(String.format(Locale.ROOT,
        "b: %d streams open %.1f s after the first file; the fewest open during the next %.0f s:"
            + " %d; engine live heap then %.0f MB (after a full GC), %d threads, %d file"
            + " descriptors", users, (open - rampStart) / 1e9, held, least,
        mid.heap() / 1048576.0, mid.threads(), mid.fds()));
  }

  /** For one chat: the rate between its first and last output, and its busiest second. */
  private void perChatNotes(String name, Recorder rec, long user, int outputs, double globalRate,
      List<String> runNotes) {
    long[] arrived = rec.arrivals(user);
    long[] times = Arrays.stream(arrived, 1, arrived.length).filter(t -> t != 0).sorted().toArray();
    if (times.length < 2) {
      return;
    }
    double steady = (times.length - 1) / ((times[times.length - 1] - times[0]) / 1e9);
    int busiest = 0;
    for (int i = 0, j = 0; j < times.length; j++) {
      while (times[j] - times[i] >= 1_000_000_000L) {
        i++;
      }
      busiest = Math.max(busiest, j - i + 1);
    }
    String versus = globalRate > 0
        ? String.format(Locale.ROOT, " = %.2f%% of the %s/s limit", 100 * steady / globalRate,
            fmt(globalRate))
        : "";
    String ceiling = globalRate > 0 && !Double.isNaN(ceilingC)
        ? String.format(Locale.ROOT, "; the same chat without the limit (c): %.0f/s", ceilingC)
        : "";
    runNotes.add(String.format(Locale.ROOT,
        "%s: first to last output %.2f/s%s; busiest 1 s window: %d outputs%s", name, steady,
        versus, busiest, ceiling));
  }

  // ---------------------------------------------------------------- the table

  private String table() {
    StringBuilder t = new StringBuilder();
    t.append(String.format(Locale.ROOT,
        "Bot API emulator limit (plain HTTP load generator, same loopback, this run): %.0f"
            + " requests/s%n%n", limit));
    t.append("| scenario | users x outputs | outputs delivered | faults | outputs/s | % of limit"
        + " | latency p50 / p95 / p99 ms | peak heap MB | heap per job KB | streams held"
        + " | CPU µs per output | journal rows per output | engine warn/error lines |\n");
    t.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      t.append(String.format(Locale.ROOT,
          "| %s | %s | %d | %d | %.0f | %.1f%% | %s / %s / %s | %.0f | %s | %d | %.0f | %.2f |"
              + " %d / %d |%n",
          r.scenario(), r.setup(), r.outputs(), r.faults().total(), r.rate(),
          100 * r.rate() / limit, ms(r.latency().p50()), ms(r.latency().p95()),
          ms(r.latency().p99()), r.peakHeapMb(),
          Double.isNaN(r.heapPerJobKb()) ? "–" : String.format(Locale.ROOT, "%.1f",
              r.heapPerJobKb()),
          r.streams(), r.cpuMicrosPerOutput(), r.journalRowsPerOutput(), r.warnings(),
          r.errors()));
    }
    t.append('\n');
    for (Row r : rows) {
      for (String note : r.notes()) {
        t.append("- ").append(note).append('\n');
      }
    }
    for (String note : notes) {
      t.append("- ").append(note).append('\n');
    }
    t.append(String.format(Locale.ROOT, "- machine: %d cores, %.0f GB RAM, %s %s; engine -Xmx%s,"
            + " journal %s; %s%n",
        Runtime.getRuntime().availableProcessors(),
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getTotalMemorySize() / 1e9,
        System.getProperty("java.vm.name"), System.getProperty("java.version"),
        settings.get("heap"),
        "postgres".equals(settings.get("journal"))
            ? "PostgreSQL (" + settings.get("journal.postgres") + ")" : "H2 in the engine's JVM",
        LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME).substring(0, 16)));
    return t.toString();
  }

  private static String percentiles(Recorder.Latency l) {
    return l.count() == 0 ? "(none)" : String.format(Locale.ROOT, "%s / %s / %s (%d)",
        ms(l.p50()), ms(l.p95()), ms(l.p99()), l.count());
  }

  private static String ms(double value) {
    return Double.isNaN(value) ? "–" : value < 10 ? String.format(Locale.ROOT, "%.1f", value)
        : String.format(Locale.ROOT, "%.0f", value);
  }

  private static String fmt(double value) {
    return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
  }

  private static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  // ---------------------------------------------------------------- helpers

  /** Samples how many streams the Runner emulator holds open, every 50 ms. */
  private static final class StreamSampler {
    private final RunnerEmulator runner;
    private final AtomicInteger max = new AtomicInteger();
    private final AtomicInteger min = new AtomicInteger(Integer.MAX_VALUE);
    private volatile boolean running;
    private Thread thread;

    StreamSampler(RunnerEmulator runner) {
      this.runner = runner;
    }

    void start() {
      running = true;
      thread = new Thread(() -> {
        while (running) {
          int now = runner.openStreams();
          max.accumulateAndGet(now, Math::max);
          min.accumulateAndGet(now, Math::min);
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "stream-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    int current() {
      return runner.openStreams();
    }

    void resetMin() {
      min.set(Integer.MAX_VALUE);
    }

    int min() {
      return min.get();
    }

    int max() {
      return max.get();
    }

    void stop() {
      running = false;
    }
  }

  private List<Long> newUsers(int n) {
    List<Long> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(nextUser++);
    }
    return ids;
  }

  private void await(String what, BooleanSupplier done, Duration timeout,
      java.util.function.Supplier<String> state) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextReport = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!done.getAsBoolean()) {
      if (engine != null && !engine.alive()) {
        throw new IllegalStateException("the engine exited while waiting for " + what + ": "
            + state.get() + "; first problems logged: " + engine.firstProblems() + "; see "
            + engineLog);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what + ": " + state.get());
      }
      if (System.nanoTime() > nextReport) {
        progress.println("  waiting for " + what + ": " + state.get());
        nextReport = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      }
      sleep(Duration.ofMillis(20));
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private int users(String key) {
    return Math.max(1, Integer.parseInt(settings.get(key)));
  }

  private int count(String key) {
    return Math.max(1, Integer.parseInt(settings.get(key)));
  }

  private Duration duration(String key) {
    return Duration.ofNanos(ConfigFactory.parseString("d = " + settings.get(key))
        .getDuration("d").toNanos());
  }

  /** Busy and total CPU time of the machine in jiffies (Linux /proc/stat); null elsewhere. */
  private static long[] machineCpu() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total - idle, total};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** CPU time of this JVM (emulators, load generator, driver), in nanoseconds. */
  private static long driverCpu() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return parts[0] + " / " + parts[1] + " / " + parts[2];
    } catch (IOException e) {
      return String.format(Locale.ROOT, "%.2f",
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  /** The emulators' per-request logs would drown the table. */
  private static void quietLogs() {
    ((ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(ch.qos.logback.classic.Level.WARN);
  }
}
