package io.botengine;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.persistence.jdbc.db.SlickExtension;
import akka.persistence.jdbc.db.SlickExtensionImpl;
import java.sql.Connection;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Asks the journal database whether it answers: a connection from the journal's own pool and a
 * {@code isValid} round trip, on Akka's blocking dispatcher. Used by {@code /health/ready} and the
 * {@code botengine_journal_reachable} gauge. A node whose journal is not the JDBC one (some tests)
 * is never reported unreachable.
 */
final class JournalProbe {
  private final ActorSystem<?> system;
  private final Duration timeout;
  private final boolean jdbc;

  JournalProbe(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.timeout = timeout;
    String plugin = system.settings().config().getString("akka.persistence.journal.plugin");
    this.jdbc = "jdbc-journal".equals(plugin);
  }

  /** Empty when the journal answered; otherwise why not, in a few words. */
  CompletionStage<Optional<String>> check() {
    if (!jdbc) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return CompletableFuture.supplyAsync(this::checkNow,
            system.dispatchers().lookup(DispatcherSelector.blocking()))
        .completeOnTimeout(Optional.of("journal did not answer within " + timeout),
            timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private Optional<String> checkNow() {
    try {
      SlickExtensionImpl slick = (SlickExtensionImpl) SlickExtension.get(system.classicSystem());
      try (Connection c = slick.database(system.settings().config().getConfig("jdbc-journal"))
          .database().source().createConnection()) {
        return c.isValid((int) Math.max(1, timeout.toSeconds()))
            ? Optional.empty()
            : Optional.of("journal connection is not valid");
      }
    } catch (Exception e) {
      return Optional.of("journal unreachable: " + LogSafe.mask(e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + e.getMessage().lines().findFirst().orElse(""))));
    }
  }
}
