package io.botengine;

import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.sharding.typed.ClusterShardingQuery;
import akka.cluster.sharding.typed.GetClusterShardingStats;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.cluster.typed.Cluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.stream.StreamSupport;

/**
 * {@code GET /admin/cluster}: the members as this node sees them (status, reachability, which is
 * this node), the shards of the users' entity type per node (from every region, so it waits for
 * the slowest), and where the cluster singletons run: on the oldest Up member, which is where Akka
 * places them.
 */
public final class ClusterView {
  /** One member. */
  public record MemberView(
      String address, String status, boolean reachable, boolean self, boolean oldest) {}

  /** The whole answer; {@code shards} maps a node's address to its shard count and entities. */
  public record View(
      String self,
      String leader,
      List<MemberView> members,
      Map<String, NodeShards> shards,
      Map<String, String> singletons) {}

  /** A node's user shards and the user actors running in them. */
  public record NodeShards(int shards, int users) {}

  private ClusterView() {}

  /** Asks sharding for its stats; the members and singletons are read from this node's view. */
  public static CompletionStage<View> of(
      ActorSystem<?> system, EntityTypeKey<?> users, List<String> singletons, Duration timeout) {
    return AskPattern.<ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
            ClusterSharding.get(system).shardState(),
            replyTo -> new GetClusterShardingStats(users, timeout, replyTo),
            timeout.plusSeconds(1),
            system.scheduler())
        .thenApply(stats -> view(system, stats, singletons));
  }

  private static View view(
      ActorSystem<?> system, ShardRegion.ClusterShardingStats stats, List<String> singletons) {
    Cluster cluster = Cluster.get(system);
    var state = cluster.state();
    List<Member> members = StreamSupport.stream(state.getMembers().spliterator(), false).toList();
    Member oldest = members.stream()
        .filter(m -> m.status() == MemberStatus.up())
        .min((a, b) -> a.isOlderThan(b) ? -1 : b.isOlderThan(a) ? 1 : 0)
        .orElse(null);
    Address self = cluster.selfMember().address();
    List<MemberView> views = new ArrayList<>();
    for (Member m : members) {
      views.add(new MemberView(m.address().toString(), NodeGauges.name(m.status()),
          !state.getUnreachable().contains(m), m.address().equals(self), m.equals(oldest)));
    }
    views.sort(Comparator.comparing(MemberView::address));
    Map<String, NodeShards> shards = new TreeMap<>();
    stats.getRegions().forEach((address, region) -> shards.put(address.toString(),
        new NodeShards(region.getStats().size(),
            region.getStats().values().stream().mapToInt(v -> ((Number) v).intValue()).sum())));
    Map<String, String> placed = new LinkedHashMap<>();
    singletons.forEach(name -> placed.put(name,
        oldest == null ? null : oldest.address().toString()));
    Address leader = state.getLeader();
    return new View(self.toString(), leader == null ? null : leader.toString(), views, shards,
        placed);
  }
}
