package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.botengine.testing.ClusterHarness;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node cut off from the others by the network, not killed: it still reaches the database, the
 * Runner and Telegram, and its users' jobs go on streaming there. The majority downs it and, as
 * sharding has no removal margin, starts those users' shards at once; their leases, still held
 * by the cut-off node, keep them waiting until that node has downed itself and stopped. So no
 * user runs on both sides: every output reaches the user once (one may repeat, the one in flight
 * when the cut-off node stopped its user), each job is charged once.
 */
@ExtendWith(LogCapture.class)
class ClusterPartitionTest {
  private static final int OUTPUTS = 40;
  private static final int CUT_OFF = 2;
  private ClusterHarness cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void usersOfACutOffNodeNeverRunOnBothSides() {
    cluster = new ClusterHarness(Map.of(
        "akka.remote.artery.advanced.test-mode", "on",
        // As in production: a node that downs itself stops (coordinated shutdown).
        "akka.cluster.run-coordinated-shutdown-when-down", "on",
        "bot.jobs.wake-interval", "100s"), true)
        // The cut-off side decides long after the majority (its view may keep changing: Akka
        // allows up to down-all-when-unstable later); here by a longer stable-after.
        .startNodes(3, Map.of(CUT_OFF, Map.of("bot.cluster.sbr-stable-after", "12s")));
    List<Long> users = LongStream.range(23_001, 23_021).boxed().toList();
    JobChecks.startStreaming(cluster, users, OUTPUTS);

    int cutOff = CUT_OFF;
    Set<Long> hosted = cluster.hostedUsers(cutOff);
    assertFalse(hosted.isEmpty(), "node " + cutOff + " hosts no user: " + cluster.hosting());
    cluster.cutOff(cutOff);
    long cutAt = System.nanoTime();
    cluster.awaitStoppedByItself(cutOff, Duration.ofSeconds(60));
    long stoppedAfter = Duration.ofNanos(System.nanoTime() - cutAt).toMillis();

    JobChecks.awaitAllSucceeded(cluster, users, Duration.ofSeconds(60));
    int repeats = JobChecks.verify(cluster, users, OUTPUTS, hosted);
    System.out.printf("ClusterPartitionTest: node %d cut off hosting %d of %d users, stopped"
        + " itself %d ms later; repeated outputs: %d%n", cutOff, hosted.size(), users.size(),
        stoppedAfter, repeats);
  }
}
