package io.botengine.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.EngineHarness;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a journal database must do for the user actors, run through a real engine: every test
 * restarts the engine on the same database and checks nothing was forgotten. Subclasses name the
 * database (H2 file, PostgreSQL).
 */
abstract class JournalContract {
  protected EngineHarness harness;
  protected BotApiEmulator bot;

  /** The JDBC URL this contract runs against. */
  protected abstract String jdbcUrl();

  protected void dropDatabase() {}

  private Map<String, Object> journal() {
    return Map.of(
        "bot.persistence.jdbc-url", jdbcUrl(),
        "bot.persistence.user", jdbcUrl().startsWith("jdbc:postgresql:") ? "postgres" : "sa",
        "bot.user.snapshot-every", 3);
  }

  @BeforeEach
  void start() {
    harness = new EngineHarness();
    bot = harness.bot;
    harness.start(journal());
  }

  @AfterEach
  void stop() {
    harness.close();
    dropDatabase();
  }

  private void restart() {
    harness.stopEngine();
    harness.start(journal());
  }

  @Test
  void keepsTheConversationAndAccountAcrossRestarts() {
    long user = 501;
    bot.sendText(user, "/cv", "ru");
    harness.awaitMessages(user, 1);
    harness.admin("POST", "/admin/users/" + user + "/credit",
        "{\"amount\": 4, \"reason\": \"promo\", \"idempotency_key\": \"p-501\"}");
    harness.admin("POST", "/admin/users/" + user + "/subscription",
        "{\"until\": \"2030-01-01T00:00:00Z\"}");
    restart();
    HttpResponse<String> account = harness.admin("GET", "/admin/users/" + user, null);
    assertTrue(account.body().contains("\"state\":\"waiting_for_file\""), account.body());
    assertTrue(account.body().contains("\"balance\":5"), account.body());
    assertTrue(account.body().contains("\"subscription_until\":\"2030-01-01T00:00:00Z\""),
        account.body());

    harness.runner.scenarioFor(user, RunnerScenario.SEED_001);
    bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    List<Sent> sent = harness.awaitMessages(user, 8);
    assertEquals("✅ Анализ завершён! Списано: 1 токен", sent.get(7).text());
    restart();
    HttpResponse<String> after = harness.admin("GET", "/admin/users/" + user, null);
    assertTrue(after.body().contains("\"balance\":4"), after.body());
    assertTrue(after.body().contains("\"key\":\"cv_analysis_"), after.body());
  }

  @Test
  void dropsAnUpdateHandledBeforeTheRestart() {
    long user = 502;
    long id = bot.sendText(user, "/balance", "ru");
    harness.awaitMessages(user, 1);
    restart();
    bot.redeliver(id);
    bot.sendText(user, "/help", "ru");
    List<Sent> sent = harness.awaitMessages(user, 2);
    assertTrue(sent.get(1).text().startsWith("👋"), sent.get(1).text());
  }
}
