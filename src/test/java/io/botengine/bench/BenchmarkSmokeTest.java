package io.botengine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's command with tiny sizes ({@code quick}): it starts an engine JVM per scenario
 * against the emulators, every output of every job arrives once and in order, every command sent
 * while jobs stream under the rate limit (e) is answered, and the table says so. Figures are not checked here: they come from a full run on a quiet machine
 * (docs/benchmark.md).
 */
class BenchmarkSmokeTest {
  @Test
  void theQuickRunDeliversEveryOutputAndAnswersEveryCommandAndPrintsTheTable() {
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    String table = Benchmark.run(List.of("quick", "a", "b", "d", "e", "out=target/bench-smoke"),
        new PrintStream(progress, true, StandardCharsets.UTF_8));
    String why = table + "\n" + progress.toString(StandardCharsets.UTF_8);

    assertTrue(table.startsWith("Bot API emulator limit"), why);
    double limit = Double.parseDouble(table.replaceFirst("(?s)^[^:]*: (\\d+) requests/s.*", "$1"));
    assertTrue(limit > 0, why);

    Map<String, List<String>> rows = new LinkedHashMap<>();
    table.lines()
        .filter(l -> l.startsWith("| ") && !l.startsWith("| scenario"))
        .map(l -> Arrays.stream(l.split("\\|")).skip(1).map(String::trim).toList())
        .forEach(cells -> rows.put(cells.get(0), cells));
    assertEquals(List.of("a", "b", "d", "e"), List.copyOf(rows.keySet()), why);
    // quick sizes: a 20 users x 10 outputs, b 40 streams x 3, d one chat x 60; e's 20 jobs are
    // stopped once its 10 commands were answered, so only some of their outputs are delivered
    Map<String, Long> expected = Map.of("a", 200L, "b", 120L, "d", 60L);
    rows.forEach((scenario, cells) -> {
      if (expected.containsKey(scenario)) {
        assertEquals(expected.get(scenario), Long.parseLong(cells.get(2)),
            scenario + ": outputs delivered\n" + why);
      } else {
        assertTrue(Long.parseLong(cells.get(2)) >= 20, scenario + ": outputs delivered\n" + why);
      }
      assertEquals("0", cells.get(3), scenario + ": faults (missing, repeated, out of order;"
          + " in e, commands without a reply)\n" + why);
      assertTrue(Double.parseDouble(cells.get(4)) > 0, scenario + ": outputs/s\n" + why);
      assertTrue(cells.get(12).endsWith("/ 0"), scenario + ": engine error lines\n" + why);
    });
    assertEquals("40", rows.get("b").get(9), "b: every stream held at once\n" + why);
    assertTrue(table.contains("e: /balance replies: 10 of 10 commands answered"),
        "e: every command answered while the jobs streamed\n" + why);
    assertTrue(table.contains("e: engine resident memory (RSS) "), "e: RSS noted\n" + why);
    // a run this short is mostly compiled as it goes: a JIT share of 0 means the threads were
    // not found
    String jit = table.replaceFirst(
        "(?s).*a: engine CPU by thread: JIT compilers (\\d+)%, GC threads \\d+%, the rest [\\d.]+ µs.*",
        "$1");
    assertTrue(jit.matches("\\d+") && Integer.parseInt(jit) > 0, "a: CPU by thread noted\n" + why);
  }
}
