package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.persistence.testkit.PersistenceTestKitPlugin;
import akka.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import akka.persistence.testkit.javadsl.PersistenceTestKit;
import akka.persistence.testkit.javadsl.SnapshotTestKit;
import com.typesafe.config.ConfigFactory;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The job registry on one cluster node with an in-memory journal, and a waker that answers its
 * wakes from a set of running jobs: what it confirms it keeps across a restart, in few writes,
 * however many registrations come at once.
 */
@ExtendWith(LogCapture.class)
class JobRegistryTest {
  private static final Duration LONG = Duration.ofHours(1);
  private static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString("akka.actor.provider = cluster\nakka.loglevel = INFO")
              .withFallback(PersistenceTestKitPlugin.getInstance().config())
              .withFallback(PersistenceTestKitSnapshotPlugin.config())
              .withFallback(ConfigFactory.load("application-test.conf")));
  private static final PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
  private static final SnapshotTestKit snapshots = SnapshotTestKit.create(testKit.system());
  /** Users that answer a wake with "my job runs". */
  private static final Set<Long> running = ConcurrentHashMap.newKeySet();
  /** Where the users report that they were woken: the running test's probe. */
  private static volatile ActorRef<Long> wakes;
  /** Users as the wiring reaches them: each wake is reported, and answered from {@link #running}. */
  private static final JobRegistry.Waker WAKER = (user, timeout) -> {
    wakes.tell(user);
    return CompletableFuture.completedFuture(running.contains(user));
  };
  private TestProbe<Long> woken;

  @BeforeAll
  static void cluster() {
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    testKit.createTestProbe().awaitAssert(() -> {
      assertEquals(MemberStatus.up(), cluster.selfMember().status());
      return null;
    });
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void clean() {
    journal.clearAll();
    snapshots.clearAll();
    running.clear();
    woken = testKit.createTestProbe();
    wakes = woken.ref();
  }

  /**
   * Starts a registry on a journal that holds these running jobs and waits until it woke them: it
   * has recovered, and its first round is over.
   */
  private ActorRef<JobRegistry.Command> start(Set<Long> expectedWakes) {
    ActorRef<JobRegistry.Command> registry = testKit.spawn(JobRegistry.create(WAKER, LONG, LONG));
    assertEquals(expectedWakes, wakesOf(expectedWakes.size()));
    return registry;
  }

  /** The users woken by the next {@code count} wakes, each once. */
  private Set<Long> wakesOf(int count) {
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < count; i++) {
      Long user = woken.receiveMessage(Duration.ofSeconds(20));
      assertTrue(seen.add(user), "user " + user + " woken twice");
    }
    return seen;
  }

  private static JobRegistry.JobsChanged changed(long user, boolean running) {
    return new JobRegistry.JobsChanged(
        List.of(new JobRegistry.Change(user, "job-" + user, running)));
  }

  /**
   * Starts a registry whose journal holds user 0's running job, and waits until it has woken user
   * 0: no message sent to it from then on races its first round.
   */
  private ActorRef<JobRegistry.Command> startWithUserZero() {
    running.add(0L);
    journal.persistForRecovery("job-registry", List.of(changed(0, true)));
    return start(Set.of(0L));
  }

  @Test
  void confirmsEveryRegistrationOfABurstInFewWritesAndWakesThemAllAfterARestart() {
    ActorRef<JobRegistry.Command> registry = startWithUserZero();
    TestProbe<Done> confirmed = testKit.createTestProbe();
    int users = 3_000;
    for (long u = 1; u <= users; u++) {
      running.add(u);
      registry.tell(new JobRegistry.Register(u, "job-" + u, confirmed.ref()));
      registry.tell(new JobRegistry.Register(u, "job-" + u, confirmed.ref()));
    }
    confirmed.receiveSeveralMessages(2 * users, Duration.ofSeconds(30));
    List<Object> writes = journal.persistedInStorage("job-registry");
    writes = writes.subList(1, writes.size());
    long changes = writes.stream()
        .mapToLong(e -> ((JobRegistry.JobsChanged) e).changes().size())
        .sum();
    assertEquals(users, changes, "each new job is one change; a repeated registration is none");
    assertTrue(writes.size() * 10 <= users,
        writes.size() + " writes for " + users + " registrations: they are not batched");

    testKit.stop(registry);
    testKit.stop(start(Set.copyOf(running)));
  }

  @Test
  void aLongRunOfRepeatedRegistrationsIsConfirmedWithoutOverflowingTheStack() {
    running.add(7L);
    ActorRef<JobRegistry.Command> registry = start(Set.of());
    TestProbe<Done> confirmed = testKit.createTestProbe();
    int repeats = 200_000;
    for (int i = 0; i < repeats; i++) {
      registry.tell(new JobRegistry.Register(7, "job-7", confirmed.ref()));
    }
    confirmed.receiveSeveralMessages(repeats, Duration.ofSeconds(60));
    assertEquals(List.of(changed(7, true)), journal.persistedInStorage("job-registry"));
    testKit.stop(registry);
  }

  @Test
  void forgetsEndedJobsAndUsersThatAnswerThatNoJobRuns() {
    // as written before registrations were batched: one event per change
    journal.persistForRecovery("job-registry", List.of(
        new JobRegistry.JobRegistered(1, "job-1"),
        new JobRegistry.JobRegistered(2, "job-2"),
        new JobRegistry.JobRegistered(3, "job-3")));
    running.addAll(List.of(1L, 2L, 3L));
    ActorRef<JobRegistry.Command> registry = start(Set.of(1L, 2L, 3L));
    registry.tell(new JobRegistry.Finished(1, "job-1"));
    registry.tell(new JobRegistry.Finished(3, "an older job of user 3"));
    awaitPersisted(changed(1, false));
    testKit.stop(registry);

    running.remove(2L);
    registry = start(Set.of(2L, 3L));
    // user 2 answered "no job": the registry forgets it once the round's answers are in
    awaitPersisted(changed(2, false));
    testKit.stop(registry);

    testKit.stop(start(Set.of(3L)));
    woken.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void recoversFromASnapshotOfTheJobsAsTheyWereWhenItWasTaken() {
    ActorRef<JobRegistry.Command> registry = startWithUserZero();
    TestProbe<Done> confirmed = testKit.createTestProbe();
    // one write, and so one event, each: the 200th event is followed by a snapshot
    for (long u = 1; u <= 199; u++) {
      register(registry, u, confirmed);
    }
    registry.tell(new JobRegistry.Finished(0, "job-0"));
    running.remove(0L);
    for (long u = 200; u <= 209; u++) {
      register(registry, u, confirmed);
    }
    Set<Long> first200 = LongStream.range(0, 200).boxed().collect(Collectors.toSet());
    woken.awaitAssert(() -> {
      var taken = snapshots.persistedInStorage("job-registry");
      assertEquals(1, taken.size(), taken.toString());
      assertEquals(200, taken.get(0).first().sequenceNr());
      assertEquals(first200, ((JobRegistry.State) taken.get(0).second()).running().keySet());
      return null;
    });
    testKit.stop(registry);

    testKit.stop(start(Set.copyOf(running)));
  }

  /** Registers this user's job and waits until the registry has persisted it. */
  private static void register(
      ActorRef<JobRegistry.Command> registry, long user, TestProbe<Done> confirmed) {
    running.add(user);
    registry.tell(new JobRegistry.Register(user, "job-" + user, confirmed.ref()));
    confirmed.receiveMessage();
  }

  private void awaitPersisted(JobRegistry.JobsChanged change) {
    woken.awaitAssert(() -> {
      List<Object> events = journal.persistedInStorage("job-registry");
      assertTrue(events.contains(change), events.toString());
      return null;
    });
  }
}
