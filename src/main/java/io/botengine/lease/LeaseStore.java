package io.botengine.lease;

import akka.actor.AbstractExtensionId;
import akka.actor.Cancellable;
import akka.actor.ExtendedActorSystem;
import akka.actor.Extension;
import akka.coordination.lease.LeaseException;
import akka.coordination.lease.LeaseTimeoutException;
import com.typesafe.config.Config;
import io.botengine.EngineSettings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases this node holds, kept in the journal's database (table {@code bot_lease}: lease
 * name, owner name, expiry by the database's clock), so that no two nodes run the same shard or singleton
 * even while the cluster cannot tell a dead node from a cut-off one.
 *
 * <p>A lease is taken when its row is missing, expired, or already this owner's. Every {@code
 * heartbeat-interval} one batch of updates moves the expiry of all held leases {@code
 * heartbeat-timeout} ahead. A killed node's leases so expire {@code heartbeat-timeout} after its
 * last renewal, with no one having to decide it is dead. The holder counts the same time on its
 * own clock, from before it sent its last successful renewal, less a second: it gives a lease up
 * (and its users stop) before the database would hand it to another node.
 *
 * <p>All database work runs on one thread of its own, one statement after another; the actors
 * only see futures. The expiry watch runs on the scheduler, so a database that hangs cannot keep
 * a node believing it still holds its leases.
 */
public final class LeaseStore implements Extension {
  private static final Logger log = LoggerFactory.getLogger(LeaseStore.class);
  /** How much sooner than the database the holder considers a lease gone (clock rates differ). */
  private static final Duration HOLDER_MARGIN = Duration.ofSeconds(1);
  private static final String UNIQUE_VIOLATION = "23505";
  /** How long after a refusal a take is tried once more (see {@link #acquire}). */
  static final Duration SECOND_TRY = Duration.ofMillis(200);

  /** Where the store finds its database and timings. */
  public record Settings(
      String jdbcUrl,
      String user,
      String password,
      Duration ttl,
      Duration renewInterval,
      Duration operationTimeout) {

    /** The journal's database ({@code akka-persistence-jdbc}'s shared one) and {@code bot.lease}. */
    static Settings of(Config config) {
      Config db = config.getConfig("akka-persistence-jdbc.shared-databases.default.db");
      Config lease = config.getConfig("bot.lease");
      return new Settings(db.getString("url"), db.getString("user"), db.getString("password"),
          lease.getDuration("heartbeat-timeout"), lease.getDuration("heartbeat-interval"),
          lease.getDuration("lease-operation-timeout"));
    }
  }

  /** The store of a classic or typed actor system. */
  public static final class Id extends AbstractExtensionId<LeaseStore> {
    public static final Id INSTANCE = new Id();

    private Id() {}

    @Override
    public LeaseStore createExtension(ExtendedActorSystem system) {
      LeaseStore store = new LeaseStore(Settings.of(system.settings().config()), System::nanoTime);
      Cancellable tick = system.scheduler().scheduleWithFixedDelay(
          store.settings.renewInterval(), store.settings.renewInterval(), store::tick,
          system.dispatcher());
      system.registerOnTermination(() -> {
        tick.cancel();
        store.close();
      });
      return store;
    }
  }

  public static LeaseStore get(akka.actor.ActorSystem system) {
    return Id.INSTANCE.get(system);
  }

  public static LeaseStore get(akka.actor.typed.ActorSystem<?> system) {
    return Id.INSTANCE.get(akka.actor.typed.javadsl.Adapter.toClassic(system));
  }

  /** A lease this node holds: until when it may believe so, and whom to tell when it may not. */
  private record Held(String owner, long validUntilNanos, Consumer<Optional<Throwable>> onLost) {}

  private final Settings settings;
  private final LongSupplier nanoTime;
  private final Sql sql;
  private final ExecutorService jdbc;
  private final Map<String, Held> held = new ConcurrentHashMap<>();
  /** A renewal is queued or running: a hanging database must not pile them up. */
  private final AtomicBoolean renewing = new AtomicBoolean();
  private volatile boolean halted;
  /** Only touched on the {@code jdbc} thread. */
  private Connection connection;
  /** Only touched on the {@code jdbc} thread: whether the last renewal failed (log once). */
  private boolean failing;

  LeaseStore(Settings settings, LongSupplier nanoTime) {
    this.settings = settings;
    this.nanoTime = nanoTime;
    this.sql = new Sql(
        EngineSettings.Dialect.of(settings.jdbcUrl()) == EngineSettings.Dialect.POSTGRES,
        settings.ttl());
    this.jdbc = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "bot-lease-jdbc");
      t.setDaemon(true);
      return t;
    });
  }

  Settings settings() {
    return settings;
  }

  /**
   * Takes the lease for {@code owner}: true if it is now held, false if another owner holds it.
   * A lease another owner holds is asked for once more {@link #SECOND_TRY} later: in a hand-over
   * the node that stopped the shard may still be deleting its row, and a refusal would make Akka
   * log an error and wait a second. Fails if the database did not answer within the operation
   * timeout; a take that lands after that is not counted as held (its row expires unless the
   * caller asks again).
   */
  public CompletionStage<Boolean> acquire(
      String name, String owner, Consumer<Optional<Throwable>> onLost) {
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    take(result, name, owner, onLost, true);
    return withTimeout(result, "acquire " + name);
  }

  private void take(CompletableFuture<Boolean> result, String name, String owner,
      Consumer<Optional<Throwable>> onLost, boolean again) {
    long sent = nanoTime.getAsLong();
    CompletableFuture<Boolean> attempt = new CompletableFuture<>();
    submit(attempt, () -> {
      boolean taken = takeRow(name, owner);
      if (taken && !result.isDone()) {
        held.put(name, new Held(owner, validUntil(sent), onLost));
      }
      return taken;
    });
    attempt.whenComplete((taken, failure) -> {
      if (failure != null) {
        result.completeExceptionally(failure);
      } else if (taken || !again || result.isDone()) {
        result.complete(taken);
      } else {
        CompletableFuture.delayedExecutor(SECOND_TRY.toMillis(), TimeUnit.MILLISECONDS)
            .execute(() -> take(result, name, owner, onLost, false));
      }
    });
  }

  /** Gives the lease up: it is no longer renewed at once, and its row is deleted. */
  public CompletionStage<Boolean> release(String name, String owner) {
    held.remove(name);
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    submit(result, () -> {
      try (PreparedStatement s = connection().prepareStatement(sql.release)) {
        s.setString(1, name);
        s.setString(2, owner);
        s.setQueryTimeout(timeoutSeconds());
        s.executeUpdate();
        return true;
      }
    });
    return withTimeout(result, "release " + name);
  }

  /** True if this node certainly still holds the lease. */
  public boolean holds(String name, String owner) {
    Held h = held.get(name);
    return h != null && h.owner().equals(owner) && nanoTime.getAsLong() < h.validUntilNanos();
  }

  /**
   * Stops all work with the database at once and forgets every lease without releasing it, as a
   * killed process would: the rows expire by themselves. For tests of crashes, and the last step
   * of a node's life.
   */
  public void halt() {
    halted = true;
    held.clear();
    jdbc.shutdownNow();
  }

  /** Renews what is held (unless a renewal is still under way) and gives up what has expired. */
  void tick() {
    expire();
    if (!held.isEmpty() && renewing.compareAndSet(false, true)) {
      try {
        jdbc.execute(() -> {
          try {
            renew();
          } finally {
            renewing.set(false);
          }
        });
      } catch (RejectedExecutionException stopped) {
        renewing.set(false);
      }
    }
  }

  /** Tells the holder of every lease whose time on this node's clock has run out. */
  private void expire() {
    long now = nanoTime.getAsLong();
    held.forEach((name, h) -> {
      if (now >= h.validUntilNanos() && held.remove(name, h)) {
        log.warn("Lease {} lost: not renewed in time (the database did not answer)", name);
        h.onLost().accept(Optional.of(new LeaseTimeoutException(
            "lease " + name + " could not be renewed within " + settings.ttl())));
      }
    });
  }

  private void renew() {
    List<Map.Entry<String, Held>> batch = new ArrayList<>(held.entrySet());
    if (batch.isEmpty() || halted) {
      return;
    }
    long sent = nanoTime.getAsLong();
    int[] counts;
    try (PreparedStatement s = connection().prepareStatement(sql.renew)) {
      for (Map.Entry<String, Held> e : batch) {
        s.setString(1, e.getKey());
        s.setString(2, e.getValue().owner());
        s.addBatch();
      }
      s.setQueryTimeout(timeoutSeconds());
      counts = s.executeBatch();
    } catch (SQLException e) {
      dropConnection();
      if (!failing) {
        failing = true;
        log.warn("Lease renewal failed ({} leases held): {}", batch.size(), firstLine(e));
      }
      return;
    }
    if (failing) {
      failing = false;
      log.info("Lease renewal works again ({} leases held)", batch.size());
    }
    long validUntil = validUntil(sent);
    for (int i = 0; i < batch.size(); i++) {
      String name = batch.get(i).getKey();
      Held h = batch.get(i).getValue();
      if (counts[i] == 0) {
        if (held.remove(name, h)) {
          log.warn("Lease {} lost: another owner holds it now", name);
          h.onLost().accept(Optional.of(
              new LeaseException("lease " + name + " is held by another owner")));
        }
      } else {
        held.replace(name, h, new Held(h.owner(), validUntil, h.onLost()));
      }
    }
  }

  private boolean takeRow(String name, String owner) throws SQLException {
    Connection c = connection();
    try (PreparedStatement update = c.prepareStatement(sql.takeOver)) {
      update.setString(1, owner);
      update.setString(2, name);
      update.setString(3, owner);
      update.setQueryTimeout(timeoutSeconds());
      if (update.executeUpdate() == 1) {
        return true;
      }
    }
    try (PreparedStatement insert = c.prepareStatement(sql.insert)) {
      insert.setString(1, name);
      insert.setString(2, owner);
      insert.setQueryTimeout(timeoutSeconds());
      insert.executeUpdate();
      return true;
    } catch (SQLException e) {
      if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
        return false; // another owner holds it (or took it between the two statements)
      }
      throw e;
    }
  }

  private long validUntil(long sentNanos) {
    return sentNanos + settings.ttl().minus(HOLDER_MARGIN).toNanos();
  }

  private interface Work<T> {
    T run() throws SQLException;
  }

  private <T> void submit(CompletableFuture<T> result, Work<T> work) {
    if (halted) {
      result.completeExceptionally(new LeaseException("lease store halted"));
      return;
    }
    try {
      jdbc.execute(() -> {
        try {
          result.complete(work.run());
        } catch (SQLException e) {
          dropConnection();
          result.completeExceptionally(new LeaseException("lease database: " + firstLine(e)));
        } catch (RuntimeException e) {
          result.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException stopped) {
      result.completeExceptionally(new LeaseException("lease store stopped"));
    }
  }

  private <T> CompletionStage<T> withTimeout(CompletableFuture<T> result, String what) {
    return result.orTimeout(settings.operationTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(e -> CompletableFuture.failedFuture(
            e instanceof java.util.concurrent.TimeoutException
                ? new LeaseTimeoutException(what + " got no answer within "
                    + settings.operationTimeout())
                : e));
  }

  private Connection connection() throws SQLException {
    if (connection == null) {
      connection = DriverManager.getConnection(
          settings.jdbcUrl(), settings.user(), settings.password());
      connection.setAutoCommit(true);
      try {
        connection.setNetworkTimeout(jdbc, (int) settings.operationTimeout().toMillis());
      } catch (java.sql.SQLFeatureNotSupportedException embedded) {
        // an embedded database has no network to wait on
      }
    }
    return connection;
  }

  private void dropConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // it is being replaced because it failed
      }
      connection = null;
    }
  }

  private int timeoutSeconds() {
    return (int) Math.max(1, settings.operationTimeout().toSeconds());
  }

  /** After the actor system stopped: queued releases still run, then the connection closes. */
  void close() {
    try {
      jdbc.execute(this::dropConnection);
      jdbc.shutdown();
    } catch (RejectedExecutionException alreadyHalted) {
      // halt() came first
    }
  }

  private static String firstLine(SQLException e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return message.lines().findFirst().orElse("") + " (SQL state " + e.getSQLState() + ")";
  }

  /** The statements, in the dialect of the database; expiry is reckoned by its clock. */
  private static final class Sql {
    final String takeOver;
    final String insert;
    final String renew;
    final String release;

    Sql(boolean postgres, Duration ttl) {
      long ms = ttl.toMillis();
      String now = postgres ? "clock_timestamp()" : "CURRENT_TIMESTAMP";
      String expiry = postgres
          ? "clock_timestamp() + INTERVAL '" + ms + " milliseconds'"
          : "DATEADD(MILLISECOND, " + ms + ", CURRENT_TIMESTAMP)";
      takeOver = "UPDATE bot_lease SET owner_name = ?, expires_at = " + expiry
          + " WHERE lease_name = ? AND (owner_name = ? OR expires_at < " + now + ")";
      insert = "INSERT INTO bot_lease (lease_name, owner_name, expires_at) VALUES (?, ?, "
          + expiry + ")";
      renew = "UPDATE bot_lease SET expires_at = " + expiry
          + " WHERE lease_name = ? AND owner_name = ?";
      release = "DELETE FROM bot_lease WHERE lease_name = ? AND owner_name = ?";
    }
  }
}
