package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.botengine.testing.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The schema script on PostgreSQL, applied by the nodes of a cluster that start together; and a
 * database whose schema the operator applies, checked for the lease table.
 */
class JournalSchemaTest {

  @Test
  void appliesTheSchemaFromSeveralNodesAtOnce() {
    String url = Postgres.freshDatabase();
    try {
      EngineSettings.Persistence db = new EngineSettings.Persistence(
          url, Postgres.USER, "", true, EngineSettings.Dialect.POSTGRES);
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<String>> nodes = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        nodes.add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
            JournalSchema.apply(db);
            return "ok";
          } catch (InterruptedException | JournalSchema.Unavailable e) {
            return e.getMessage();
          }
        }));
      }
      go.countDown();
      assertEquals(List.of("ok", "ok", "ok", "ok"),
          nodes.stream().map(CompletableFuture::join).toList());
      JournalSchema.apply(db);
    } finally {
      Postgres.drop(url);
    }
  }

  @Test
  void refusesADatabaseWithoutTheLeaseTableWhenTheOperatorAppliesTheSchema() throws Exception {
    String url = "jdbc:h2:mem:schema-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    EngineSettings.Persistence db = new EngineSettings.Persistence(
        url, "sa", "", false, EngineSettings.Dialect.H2);
    try (Connection c = DriverManager.getConnection(url, "sa", "")) {
      c.createStatement().execute("CREATE TABLE journal_of_an_older_schema (x INT)");
    }
    JournalSchema.Unavailable refused = assertThrows(
        JournalSchema.Unavailable.class, () -> JournalSchema.checkLeaseTable(db));
    assertEquals("the table bot_lease is missing at JDBC_URL (" + url + "), and"
        + " BOT_CREATE_SCHEMA is false: apply persistence-schema/h2-create-schema.sql (every"
        + " statement in it is idempotent) or start with BOT_CREATE_SCHEMA=true",
        refused.getMessage());

    JournalSchema.apply(db);
    JournalSchema.checkLeaseTable(db);
    // Unreachable: left to the readiness check, as before the lease table existed.
    JournalSchema.checkLeaseTable(new EngineSettings.Persistence(
        "jdbc:postgresql://127.0.0.1:1/none", "sa", "", false, EngineSettings.Dialect.POSTGRES));
  }
}
