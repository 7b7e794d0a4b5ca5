package io.botengine.lease;

import akka.actor.ExtendedActorSystem;
import akka.coordination.lease.LeaseSettings;
import akka.coordination.lease.javadsl.Lease;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A lease in the journal's database, for Cluster Sharding's shards and the cluster singletons
 * ({@code akka.cluster.sharding.use-lease}, {@code akka.cluster.singleton.use-lease} =
 * {@code bot.lease}). Akka makes one per lease name; they share the node's {@link LeaseStore}.
 */
public final class JdbcLease extends Lease {
  private final LeaseSettings settings;
  private final LeaseStore store;

  public JdbcLease(LeaseSettings settings, ExtendedActorSystem system) {
    this.settings = settings;
    this.store = LeaseStore.get(system);
  }

  @Override
  public LeaseSettings getSettings() {
    return settings;
  }

  @Override
  public CompletionStage<Boolean> acquire() {
    return acquire(lost -> {});
  }

  @Override
  public CompletionStage<Boolean> acquire(Consumer<Optional<Throwable>> leaseLostCallback) {
    return store.acquire(settings.leaseName(), settings.ownerName(), leaseLostCallback);
  }

  @Override
  public CompletionStage<Boolean> release() {
    return store.release(settings.leaseName(), settings.ownerName());
  }

  @Override
  public boolean checkLease() {
    return store.holds(settings.leaseName(), settings.ownerName());
  }
}
