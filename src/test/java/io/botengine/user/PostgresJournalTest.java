package io.botengine.user;

import io.botengine.testing.LogCapture;
import io.botengine.testing.Postgres;
import org.junit.jupiter.api.extension.ExtendWith;

/** The journal contract on PostgreSQL, the production database. */
@ExtendWith(LogCapture.class)
class PostgresJournalTest extends JournalContract {
  private String url;

  @Override
  protected String jdbcUrl() {
    if (url == null) {
      url = Postgres.freshDatabase();
    }
    return url;
  }

  @Override
  protected void dropDatabase() {
    if (url != null) {
      Postgres.drop(url);
    }
  }
}
