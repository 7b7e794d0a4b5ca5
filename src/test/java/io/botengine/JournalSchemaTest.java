package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.botengine.testing.Postgres;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The schema script on PostgreSQL, applied by the nodes of a cluster that start together. */
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
}
