package io.botengine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Applies {@code persistence-schema/<db>-create-schema.sql} (every statement idempotent) before
 * the actor system starts, so that the journal exists when the first user actor recovers. Runs on
 * the main thread, before any actor. On PostgreSQL the whole script runs in one transaction under
 * an advisory lock: nodes of a cluster start together, and concurrent {@code CREATE TABLE IF NOT
 * EXISTS} of the same table fails there.
 */
public final class JournalSchema {
  /** The advisory lock key of the schema script (any constant shared by all nodes). */
  private static final long SCHEMA_LOCK = 0x626f742d656e67L;

  private JournalSchema() {}

  /** A database the engine cannot use; the message is one line for the operator. */
  static final class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message);
    }
  }

  public static void apply(EngineSettings.Persistence p) {
    String sql = read("persistence-schema/" + p.dialect().schemaFile);
    boolean postgres = p.dialect() == EngineSettings.Dialect.POSTGRES;
    try (Connection c = DriverManager.getConnection(p.jdbcUrl(), p.user(), p.password());
        Statement s = c.createStatement()) {
      if (postgres) {
        c.setAutoCommit(false);
        s.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
      }
      for (String statement : sql.split(";")) {
        String stripped = statement.lines().filter(l -> !l.strip().startsWith("--"))
            .reduce("", (a, b) -> a + b + "\n").strip();
        if (!stripped.isEmpty()) {
          s.execute(stripped);
        }
      }
      if (postgres) {
        c.commit();
      }
    } catch (SQLException e) {
      throw new Unavailable("cannot prepare the journal at JDBC_URL (" + redact(p.jdbcUrl())
          + "): " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  /**
   * For a database whose schema the operator applies ({@code BOT_CREATE_SCHEMA=false}): refuses to
   * start without the engine's lease table, which an older schema lacks (without it no shard and
   * no singleton could run). A database that cannot be reached is left to the journal's readiness
   * check, as before.
   */
  public static void checkLeaseTable(EngineSettings.Persistence p) {
    Connection c;
    try {
      c = DriverManager.getConnection(p.jdbcUrl(), p.user(), p.password());
    } catch (SQLException unreachable) {
      return;
    }
    try (c; Statement s = c.createStatement()) {
      s.executeQuery("SELECT lease_name FROM bot_lease WHERE 1 = 0").close();
    } catch (SQLException e) {
      throw new Unavailable("the table bot_lease is missing at JDBC_URL (" + redact(p.jdbcUrl())
          + "), and BOT_CREATE_SCHEMA is false: apply persistence-schema/"
          + p.dialect().schemaFile + " (every statement in it is idempotent) or start with"
          + " BOT_CREATE_SCHEMA=true");
    }
  }

  private static String read(String resource) {
    try (InputStream in = JournalSchema.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new Unavailable("schema file " + resource + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Unavailable("cannot read " + resource + ": " + e.getMessage());
    }
  }

  /** JDBC URLs may carry a password parameter; show everything before the first '?' or ';'. */
  static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }
}
