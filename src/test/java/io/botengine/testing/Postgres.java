package io.botengine.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) for journal tests. When it is not
 * reachable the test fails in CI ({@code CI=true}) and is skipped elsewhere, both with one line
 * saying how to start it.
 */
public final class Postgres {
  static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";
  public static final String USER = "postgres";
  static final String HOW_TO_START =
      "PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres): start it with "
          + "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' "
          + "or run .ci/run, which starts or installs it";

  private Postgres() {}

  /** A fresh, empty database for one test class; returns its JDBC URL. */
  public static String freshDatabase() {
    String name = "botengine_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(ADMIN_URL, USER, "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      String line = HOW_TO_START + " (" + e.getMessage().lines().findFirst().orElse("") + ")";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        Assertions.fail(line);
      }
      System.out.println("SKIPPED: " + line);
      Assumptions.abort(line);
    }
    return "jdbc:postgresql://127.0.0.1:5432/" + name;
  }

  /** Drops a database made by {@link #freshDatabase}. */
  public static void drop(String url) {
    String name = url.substring(url.lastIndexOf('/') + 1);
    try (Connection c = DriverManager.getConnection(ADMIN_URL, USER, "");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      System.out.println("could not drop " + name + ": " + e.getMessage());
    }
  }
}
