package io.botengine.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.coordination.lease.LeaseException;
import akka.coordination.lease.LeaseTimeoutException;
import io.botengine.EngineSettings;
import io.botengine.JournalSchema;
import io.botengine.testing.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Leases in a real database, H2 (the embedded default) and PostgreSQL: who may take one, how a
 * holder keeps it, and when a holder must believe it lost it. Each store here is one node.
 */
class LeaseStoreTest {

  @Nested
  class OnH2 extends Contract {
    private final String url = "jdbc:h2:mem:lease-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";

    @Override
    String url() {
      return url;
    }

    @Override
    String user() {
      return "sa";
    }

    @Override
    EngineSettings.Dialect dialect() {
      return EngineSettings.Dialect.H2;
    }
  }

  @Nested
  class OnPostgres extends Contract {
    private final String url = Postgres.freshDatabase();

    @Override
    String url() {
      return url;
    }

    @Override
    String user() {
      return Postgres.USER;
    }

    @Override
    EngineSettings.Dialect dialect() {
      return EngineSettings.Dialect.POSTGRES;
    }

    @AfterEach
    void dropDatabase() {
      Postgres.drop(url);
    }
  }

  abstract static class Contract {
    private static final Duration TTL = Duration.ofSeconds(3);
    private static final String SHARD = "bot-engine-shard-user-7";

    /** The node clocks of the stores, moved by hand (the database keeps its own, real one). */
    private final AtomicLong nanos = new AtomicLong(System.nanoTime());
    private final List<LeaseStore> stores = new ArrayList<>();
    private final List<Optional<Throwable>> lost = new CopyOnWriteArrayList<>();

    abstract String url();

    abstract String user();

    abstract EngineSettings.Dialect dialect();

    private LeaseStore node() {
      if (stores.isEmpty()) {
        JournalSchema.apply(new EngineSettings.Persistence(url(), user(), "", true, dialect()));
      }
      LeaseStore store = new LeaseStore(new LeaseStore.Settings(url(), user(), "", TTL,
          Duration.ofMillis(500), Duration.ofSeconds(3)), nanos::get);
      stores.add(store);
      return store;
    }

    @AfterEach
    void stopStores() {
      stores.forEach(LeaseStore::halt);
    }

    private static boolean take(LeaseStore store, String owner) {
      return store.acquire(SHARD, owner, reason -> {}).toCompletableFuture().join();
    }

    @Test
    void oneOwnerAtATimeUntilItReleases() {
      LeaseStore a = node();
      LeaseStore b = node();
      assertTrue(take(a, "10.0.0.1:25520"));
      assertFalse(take(b, "10.0.0.2:25520"));
      assertTrue(a.holds(SHARD, "10.0.0.1:25520"));
      assertFalse(b.holds(SHARD, "10.0.0.2:25520"));
      // A restarted node keeps its address: it may take what its dead predecessor held.
      assertTrue(take(b, "10.0.0.1:25520"));

      assertTrue(a.release(SHARD, "10.0.0.1:25520").toCompletableFuture().join());
      assertFalse(a.holds(SHARD, "10.0.0.1:25520"));
      assertTrue(take(b, "10.0.0.2:25520"));
    }

    @Test
    void aLeaseReleasedJustAfterARefusalIsTakenOnTheSecondTry() {
      LeaseStore a = node();
      LeaseStore b = node();
      assertTrue(take(a, "a:1"));
      var taking = b.acquire(SHARD, "b:1", reason -> {}).toCompletableFuture();
      // b's statements run in order: once this release is answered, its first take was refused.
      b.release("another", "b:1").toCompletableFuture().join();
      assertTrue(a.release(SHARD, "a:1").toCompletableFuture().join());
      assertTrue(taking.join(), "the hand-over's second try");
      assertTrue(b.holds(SHARD, "b:1"));
    }

    @Test
    void aKilledHoldersLeaseIsFreeOnlyOnceItExpired() throws Exception {
      LeaseStore a = node();
      LeaseStore b = node();
      assertTrue(take(a, "a:1"));
      Instant expiry = expiresAt();
      a.halt(); // killed: no release, no renewal
      assertFalse(take(b, "b:1"));
      awaitUntil(() -> take(b, "b:1"));
      assertTrue(Instant.now().isAfter(expiry.minusMillis(500)),
          "taken at " + Instant.now() + ", the lease expired at " + expiry);
    }

    @Test
    void renewingMovesTheExpiryAheadAndKeepsOthersOut() throws Exception {
      LeaseStore a = node();
      LeaseStore b = node();
      assertTrue(take(a, "a:1"));
      Instant first = expiresAt();
      awaitUntil(() -> {
        a.tick();
        return expiresAt().isAfter(first);
      });
      assertFalse(take(b, "b:1"));
      assertTrue(lost.isEmpty());
    }

    @Test
    void theHolderGivesItUpOnItsOwnClockBeforeTheDatabaseWouldHandItOn() throws Exception {
      LeaseStore a = node();
      assertTrue(a.acquire(SHARD, "a:1", lost::add).toCompletableFuture().join());
      execute("DROP TABLE bot_lease"); // the database stops answering for the lease
      a.tick(); // fails, and fails again below: no renewal since the take
      nanos.addAndGet(TTL.minusSeconds(1).minusMillis(1).toNanos());
      a.tick();
      assertTrue(a.holds(SHARD, "a:1"));
      assertTrue(lost.isEmpty());

      nanos.addAndGet(Duration.ofMillis(1).toNanos());
      a.tick();
      assertFalse(a.holds(SHARD, "a:1"));
      assertEquals(1, lost.size());
      assertInstanceOf(LeaseTimeoutException.class, lost.get(0).orElseThrow());
      a.tick();
      assertEquals(1, lost.size(), "told once");
    }

    @Test
    void aLeaseAnotherOwnerHoldsNowIsReportedLost() throws Exception {
      LeaseStore a = node();
      assertTrue(a.acquire(SHARD, "a:1", lost::add).toCompletableFuture().join());
      execute("UPDATE bot_lease SET owner_name = 'b:1'");
      awaitUntil(() -> {
        a.tick();
        return !lost.isEmpty();
      });
      assertInstanceOf(LeaseException.class, lost.get(0).orElseThrow());
      assertFalse(a.holds(SHARD, "a:1"));
    }

    @Test
    void aDatabaseErrorFailsTheTakeWithoutItsAddress() throws Exception {
      LeaseStore a = node();
      execute("DROP TABLE bot_lease");
      Throwable failure = a.acquire(SHARD, "a:1", lost::add).toCompletableFuture()
          .handle((ok, e) -> e).join();
      assertInstanceOf(LeaseException.class, failure.getCause() == null ? failure
          : failure.getCause());
      assertFalse(String.valueOf(failure.getMessage()).contains(url()), failure.getMessage());
      assertFalse(a.holds(SHARD, "a:1"));
    }

    private Instant expiresAt() throws SQLException {
      try (Connection c = connection(); Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT expires_at FROM bot_lease")) {
        assertTrue(r.next());
        return r.getObject(1, java.time.OffsetDateTime.class).toInstant();
      }
    }

    private void execute(String statement) throws SQLException {
      try (Connection c = connection(); Statement s = c.createStatement()) {
        s.execute(statement);
      }
    }

    private Connection connection() throws SQLException {
      return DriverManager.getConnection(url(), user(), "");
    }

    private interface Check {
      boolean holds() throws Exception;
    }

    private static void awaitUntil(Check check) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!check.holds()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("not within 10 s");
        }
        Thread.sleep(50);
      }
    }
  }
}
