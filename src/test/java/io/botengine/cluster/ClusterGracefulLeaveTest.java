package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.testing.CapturingAppender;
import io.botengine.testing.ClusterHarness;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Three nodes; one that hosts users (not the oldest, so the job registry stays where it is) leaves
 * by coordinated shutdown, as on SIGTERM, in the middle of the jobs. Its users' jobs resume on the
 * other nodes at once, not at the registry's next periodic wake (30 s).
 */
@ExtendWith(LogCapture.class)
class ClusterGracefulLeaveTest {
  private static final int OUTPUTS = 6;
  private static final Duration RESUMED_WITHIN = Duration.ofSeconds(15);
  private static ClusterHarness cluster;

  @BeforeAll
  static void start() {
    cluster = new ClusterHarness(Map.of()).startNodes(3);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void handsTheJobsOfALeavingNodeOverWithoutLosingOrRepeatingAnOutput() {
    List<Long> users = LongStream.rangeClosed(30_001, 30_020).boxed().toList();
    JobChecks.startStreaming(cluster, users, OUTPUTS);

    int leaving = 2;
    Set<Long> hosted = cluster.hostedUsers(leaving);
    Map<Long, Integer> atLeave = new TreeMap<>();
    hosted.forEach(u -> atLeave.put(u, cluster.outputs(u).size()));
    assertFalse(hosted.isEmpty(), "node 2 hosts no user: " + cluster.hosting());
    Instant leftAt = Instant.now();
    cluster.leave(leaving);
    Duration leaveTook = Duration.between(leftAt, Instant.now());
    cluster.awaitMembersUp(2);

    JobChecks.awaitAllSucceeded(cluster, users, RESUMED_WITHIN);
    int repeats = JobChecks.verify(cluster, users, OUTPUTS, Set.of());
    assertEquals(0, repeats);
    long handedOver = atLeave.entrySet().stream()
        .filter(e -> e.getValue() < OUTPUTS)
        .filter(e -> cluster.runner.streamConnections(cluster.taskOf(e.getKey())) == 2)
        .count();
    assertTrue(handedOver > 0,
        "no job was resumed on another node; outputs at the leave: " + atLeave);
    // A deploy must not page anyone: a handed-over shard takes its lease without an error.
    assertFalse(CapturingAppender.text().contains("Failed to get lease"),
        "a shard or singleton could not take its lease during the hand-over");
    Instant lastResult = users.stream()
        .flatMap(u -> cluster.bot.sentTo(u).stream())
        .map(Sent::at)
        .max(Instant::compareTo)
        .orElseThrow();
    System.out.printf(
        "ClusterGracefulLeaveTest: node 2 left hosting %d of %d users (outputs delivered then: %s);"
            + " coordinated shutdown took %d ms; %d jobs resumed elsewhere; every job finished"
            + " %d ms after the leave began; repeated outputs: %d%n",
        hosted.size(), users.size(), atLeave, leaveTook.toMillis(), handedOver,
        Duration.between(leftAt, lastResult).toMillis(), repeats);
  }
}
