package io.botengine;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.sharding.typed.ClusterShardingQuery;
import akka.cluster.sharding.typed.GetShardRegionState;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.cluster.typed.Cluster;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;

/**
 * The node's cluster and journal gauges: members by status and unreachable ones (read from the
 * cluster's state when scraped), and the shards and users this node hosts and whether its journal
 * answers (refreshed every {@link #EVERY} outside the scrape, which must not wait).
 */
final class NodeGauges {
  static final Duration EVERY = Duration.ofSeconds(10);
  private static final List<MemberStatus> STATUSES = List.of(MemberStatus.joining(),
      MemberStatus.weaklyUp(), MemberStatus.up(), MemberStatus.leaving(), MemberStatus.exiting(),
      MemberStatus.down());

  private final AtomicInteger shards = new AtomicInteger();
  private final AtomicInteger entities = new AtomicInteger();
  private final AtomicInteger journalUp = new AtomicInteger(1);

  private NodeGauges() {}

  /** Registers the gauges of {@code system}'s node for the users of {@code users}. */
  static void start(ActorSystem<?> system, EntityTypeKey<?> users, JournalProbe journal) {
    NodeGauges g = new NodeGauges();
    MeterRegistry registry = Metrics.get(system).registry();
    Cluster cluster = Cluster.get(system);
    for (MemberStatus status : STATUSES) {
      Gauge.builder("botengine.cluster.members", cluster, c -> count(c, status))
          .description("Cluster members as this node sees them, by status")
          .tag("status", name(status))
          .register(registry);
    }
    Gauge.builder("botengine.cluster.unreachable", cluster, c -> c.state().getUnreachable().size())
        .description("Members this node cannot reach").register(registry);
    Gauge.builder("botengine.shards.hosted", g.shards, AtomicInteger::get)
        .description("User shards hosted on this node").register(registry);
    Gauge.builder("botengine.users.active", g.entities, AtomicInteger::get)
        .description("User actors running on this node").register(registry);
    Gauge.builder("botengine.journal.reachable", g.journalUp, AtomicInteger::get)
        .description("1 when the journal database answered the last check").register(registry);
    system.scheduler().scheduleAtFixedRate(EVERY, EVERY,
        () -> g.refresh(system, users, journal), system.executionContext());
  }

  private void refresh(ActorSystem<?> system, EntityTypeKey<?> users, JournalProbe journal) {
    AskPattern.<ClusterShardingQuery, ShardRegion.CurrentShardRegionState>ask(
            ClusterSharding.get(system).shardState(),
            replyTo -> new GetShardRegionState(users, replyTo),
            EVERY,
            system.scheduler())
        .thenAccept(state -> {
          shards.set(state.getShards().size());
          entities.set(state.getShards().stream().mapToInt(s -> s.getEntityIds().size()).sum());
        });
    journal.check().thenAccept(why -> journalUp.set(why.isEmpty() ? 1 : 0));
  }

  private static double count(Cluster cluster, MemberStatus status) {
    return StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
        .filter(m -> m.status() == status).count();
  }

  static String name(MemberStatus status) {
    return status.toString().replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }
}
