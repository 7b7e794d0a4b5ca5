package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.ClusterHarness;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sharding passivates users idle for the idle timeout (3 s here, 120 s in production); a user
 * whose job runs far longer than that keeps its actor, and its job is never interrupted: the job
 * registry's wake (1 s here, 30 s in production) is sharding traffic; its own task's is not.
 */
@ExtendWith(LogCapture.class)
class ClusterPassivationTest {
  private static final int OUTPUTS = 5;
  private static ClusterHarness cluster;

  @BeforeAll
  static void start() {
    cluster = new ClusterHarness(Map.of(
        "akka.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout", "3s",
        "bot.jobs.wake-interval", "1s"))
        .startNodes(3);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void keepsAUserWithAJobLongerThanTheIdleTimeoutWhilePassivatingIdleOnes() {
    long working = 50_001;
    long idle = 50_002;
    cluster.runner.scenarioFor(working,
        RunnerScenario.manyOutputs(OUTPUTS, Duration.ofMillis(1500)));
    cluster.startJobs(List.of(working));
    cluster.bot.sendText(idle, "/balance", "ru");
    cluster.bot.awaitSent(idle, 1, ClusterHarness.WAIT);
    assertTrue(hosted(idle));

    cluster.awaitAssert(Duration.ofSeconds(10), () -> assertFalse(hosted(idle), "not passivated"));
    assertTrue(cluster.outputs(working).size() < OUTPUTS, "the job should still run");
    assertTrue(hosted(working), "the user with a running job was passivated");

    JobChecks.awaitAllSucceeded(cluster, List.of(working), ClusterHarness.WAIT);
    assertEquals(0, JobChecks.verify(cluster, List.of(working), OUTPUTS, Set.of()));
    assertEquals(1, cluster.runner.streamConnections(cluster.taskOf(working)),
        "the job's stream was never interrupted (no hand-over, no resume)");
  }

  private static boolean hosted(long user) {
    return cluster.runningNodes().stream().anyMatch(n -> cluster.hostedUsers(n).contains(user));
  }
}
