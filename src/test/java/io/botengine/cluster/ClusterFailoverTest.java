package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.cluster.ClusterEvent;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.ClusterHarness;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Three nodes on one PostgreSQL journal, 20 users with running jobs; one node crashes mid-stream
 * (no coordinated shutdown, no hand-over) and the survivors' Split Brain Resolver downs it. Its
 * users' jobs resume on the survivors from the journal, well before the registry's periodic wake
 * (30 s, as in production).
 */
@ExtendWith(LogCapture.class)
class ClusterFailoverTest {
  private static final int OUTPUTS = 6;
  private static final Duration RESUMED_WITHIN = Duration.ofSeconds(25);
  private ClusterHarness cluster;

  @BeforeEach
  void start() {
    cluster = new ClusterHarness(Map.of()).startNodes(3);
  }

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * At whatever moment the jobs are in. The oldest node also runs the shard coordinator, the job
   * registry and polling: all of them move.
   */
  @Test
  void resumesTheJobsOfTheCrashedOldestNodeRepeatingAtMostTheOutputInFlight() {
    crashMidStream(0, 20_001, false);
  }

  /**
   * The worst moment: the node dies as Telegram accepts an output, before its index is persisted.
   * The registry survives; it wakes everyone once the dead node's shards may move.
   */
  @Test
  void resumesTheJobsOfANodeThatCrashedWithAnOutputInFlight() {
    crashMidStream(2, 21_001, true);
  }

  private void crashMidStream(int victim, long firstUser, boolean withOutputInFlight) {
    List<Long> users = LongStream.range(firstUser, firstUser + 20).boxed().toList();
    RunnerScenario scenario = RunnerScenario.manyOutputs(OUTPUTS, Duration.ofMillis(500));
    users.forEach(u -> cluster.runner.scenarioFor(u, scenario));
    cluster.startJobs(users);
    cluster.awaitAssert(ClusterHarness.WAIT, () -> users.forEach(u ->
        assertTrue(cluster.outputs(u).size() >= 2, "user " + u + ": " + cluster.outputs(u))));

    Set<Long> hosted = cluster.hostedUsers(victim);
    Map<Long, Integer> atCrash = new TreeMap<>();
    hosted.forEach(u -> atCrash.put(u, cluster.outputs(u).size()));
    assertFalse(hosted.isEmpty(), "node " + victim + " hosts no user: " + cluster.hosting());
    assertTrue(atCrash.values().stream().anyMatch(n -> n < OUTPUTS),
        "every job of node " + victim + " was over before the crash: " + atCrash);

    int witness = victim == 1 ? 0 : 1;
    TestProbe<ClusterEvent.MemberDowned> downed = TestProbe.create(cluster.node(witness).system());
    Cluster.get(cluster.node(witness).system()).subscriptions()
        .tell(Subscribe.create(downed.getRef(), ClusterEvent.MemberDowned.class));
    Address victimAddress = ClusterHarness.address(cluster.node(victim));
    AtomicLong inFlight = new AtomicLong();
    if (withOutputInFlight) {
      // Telegram takes the output but answers only once the node is gone.
      ActorSystem<Void> dying = cluster.node(victim).system();
      String next = "Вывод " + (atCrash.values().stream().min(Integer::compare).get() + 1);
      cluster.bot.onSent(s -> {
        if (hosted.contains(s.chatId()) && next.equals(s.text())
            && inFlight.compareAndSet(0, s.chatId())) {
          dying.terminate();
          dying.getWhenTerminated().toCompletableFuture().join();
        }
      });
      cluster.awaitAssert(ClusterHarness.WAIT, () -> assertTrue(inFlight.get() != 0));
      hosted.forEach(u -> atCrash.put(u, cluster.outputs(u).size()));
    }
    Instant crashedAt = Instant.now();
    cluster.crash(victim);

    ClusterEvent.MemberDowned down =
        downed.expectMessageClass(ClusterEvent.MemberDowned.class, ClusterHarness.WAIT);
    assertEquals(victimAddress, down.member().address(), "the Split Brain Resolver downed it");
    Duration downedAfter = Duration.between(crashedAt, Instant.now());

    JobChecks.awaitAllSucceeded(cluster, users, RESUMED_WITHIN);
    int repeats = JobChecks.verify(cluster, users, OUTPUTS, hosted);
    if (withOutputInFlight) {
      List<String> got = cluster.outputs(inFlight.get());
      assertEquals(OUTPUTS + 1, got.size(), "the output in flight is sent once more: " + got);
    }
    Instant lastResult = users.stream()
        .flatMap(u -> cluster.bot.sentTo(u).stream())
        .map(Sent::at)
        .max(Instant::compareTo)
        .orElseThrow();
    System.out.printf(
        "ClusterFailoverTest: node %d crashed hosting %d of %d users (outputs delivered then: %s);"
            + " downed by the SBR after %d ms; every job finished %d ms after the crash;"
            + " repeated outputs: %d%n",
        victim, hosted.size(), users.size(), atCrash, downedAfter.toMillis(),
        Duration.between(crashedAt, lastResult).toMillis(), repeats);
  }
}
