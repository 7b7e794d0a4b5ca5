package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EngineSettingsTest {
  private static Config config(Map<String, Object> values) {
    Map<String, Object> all = new HashMap<>();
    all.put("bot.telegram.token", "123:abc");
    all.put("bot.runner.url", "http://127.0.0.1:9000");
    all.putAll(values);
    return ConfigFactory.load(
        ConfigFactory.parseMap(all).withFallback(ConfigFactory.parseResources("application.conf")));
  }

  private static String failure(Map<String, Object> values) {
    return assertThrows(EngineSettings.SettingsException.class,
        () -> EngineSettings.from(config(values))).getMessage();
  }

  @Test
  void defaultsMakeAWorkingPollingNodeOnH2() {
    EngineSettings s = EngineSettings.from(config(Map.of()));
    assertEquals(EngineSettings.Mode.POLLING, s.telegram().mode());
    assertEquals(EngineSettings.Dialect.H2, s.persistence().dialect());
    assertEquals(8080, s.http().port());
    assertEquals(1, s.billing().cvCost());
    assertTrue(s.cluster().seedNodes().isEmpty());
    assertFalse(s.telegram().sandbox());
  }

  @Test
  void readsTheWebEventSettingsAndStopsOnABadOne() {
    EngineSettings s = EngineSettings.from(config(Map.of()));
    assertEquals(Duration.ofHours(24), s.ops().webApp().maxAuthAge());
    assertEquals(256, s.ops().webApp().eventsKept());
    assertEquals(Duration.ofMinutes(30),
        EngineSettings.from(config(Map.of("bot.webapp.max-auth-age", "30m"))).ops().webApp()
            .maxAuthAge());
    assertTrue(failure(Map.of("bot.webapp.connection-buffer", 1))
        .contains("bot.webapp.connection-buffer"));
    assertTrue(failure(Map.of("bot.webapp.max-auth-age", "0s"))
        .contains("bot.webapp.max-auth-age"));
  }

  @Test
  void readsTheStarsOffersAndStopsOnAMisconfiguredOne() {
    EngineSettings s = EngineSettings.from(config(Map.of(
        "bot.payments.packs", " 5:50, 20:180 ", "bot.payments.subscription.stars", 10000)));
    assertEquals(java.util.List.of(new EngineSettings.Payments.Pack(5, 50),
        new EngineSettings.Payments.Pack(20, 180)), s.payments().packs());
    assertTrue(s.payments().subscription().offered());
    assertFalse(EngineSettings.from(config(Map.of("bot.payments.packs", ""))).payments()
        .packs().iterator().hasNext());
    assertEquals("BOT_PAYMENT_PACKS (bot.payments.packs) needs at least 1 token and 1 Star in every"
        + " pack, got '5:0'", failure(Map.of("bot.payments.packs", "5:0")));
    assertEquals("BOT_PAYMENT_PACKS (bot.payments.packs) must be comma-separated tokens:stars pairs"
        + " such as 5:50,20:180, got '5=50'", failure(Map.of("bot.payments.packs", "5=50")));
    assertEquals("BOT_PAYMENT_PACKS (bot.payments.packs) must be comma-separated tokens:stars pairs"
        + " such as 5:50,20:180, got '-5:50'", failure(Map.of("bot.payments.packs", "-5:50")));
    assertTrue(failure(Map.of("bot.payments.subscription.stars", 10001))
        .startsWith("BOT_SUBSCRIPTION_STARS (bot.payments.subscription.stars) must be"),
        failure(Map.of("bot.payments.subscription.stars", 10001)));
  }

  @Test
  void logFormatIsTextOrJson() {
    assertEquals("text", EngineSettings.from(config(Map.of())).ops().logFormat());
    assertEquals("json",
        EngineSettings.from(config(Map.of("bot.log-format", "json"))).ops().logFormat());
    assertEquals("LOG_FORMAT (bot.log-format) must be 'text' or 'json', got 'xml'",
        failure(Map.of("bot.log-format", "xml")));
  }

  @Test
  void aPostgresUrlSelectsPostgres() {
    EngineSettings s = EngineSettings.from(
        config(Map.of("bot.persistence.jdbc-url", "jdbc:postgresql://db:5432/bot")));
    assertEquals(EngineSettings.Dialect.POSTGRES, s.persistence().dialect());
  }

  @Test
  void namesTheEnvironmentVariableToFix() {
    assertEquals("TELEGRAM_MODE (bot.telegram.mode) must be 'polling' or 'webhook', got 'push'",
        failure(Map.of("bot.telegram.mode", "push")));
    assertEquals("TELEGRAM_WEBHOOK_SECRET (bot.telegram.webhook.secret) is required when "
        + "TELEGRAM_MODE=webhook", failure(Map.of("bot.telegram.mode", "webhook")));
    assertEquals("BOT_STREAMING_MODE (bot.streaming.mode) must be 'draft', 'edit' or 'off', got"
        + " 'live'", failure(Map.of("bot.streaming.mode", "live")));
    assertEquals("HTTP_PORT (bot.http.port) must be a whole number, got 'abc'",
        failure(Map.of("bot.http.port", "abc")));
    assertEquals("RUNNER_URL (bot.runner.url) is missing: the Runner's base URL",
        failure(Map.of("bot.runner.url", "")));
    assertEquals("CLUSTER_SEED_NODES (bot.cluster.seed-nodes) must be comma-separated host:port "
        + "pairs, got 'node1'", failure(Map.of("bot.cluster.seed-nodes", "node1")));
    assertEquals("JDBC_URL (bot.persistence.jdbc-url) must start with jdbc:postgresql: or jdbc:h2:, "
        + "got 'jdbc:mysql://x'", failure(Map.of("bot.persistence.jdbc-url", "jdbc:mysql://x")));
  }

  @Test
  void wantsUsersWithAJobWokenMoreOftenThanTheyWouldBePassivated() {
    assertEquals("BOT_WAKE_INTERVAL (bot.jobs.wake-interval) must be shorter than "
        + "akka.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout (120s): "
        + "users with a running job would be passivated between wakes",
        failure(Map.of("bot.jobs.wake-interval", "2m")));
  }

  @Test
  void checksEverySettingThatWouldOtherwiseBreakTheRunningNode() {
    assertEquals("JDBC_MAX_CONNECTIONS (bot.persistence.max-connections) must be between 1 and "
        + "1000, got '0'", failure(Map.of("bot.persistence.max-connections", "0")));
    assertEquals("RUNNER_MAX_FRAME_SIZE (bot.runner.max-frame-size) must be a whole number, "
        + "got 'abc'", failure(Map.of("bot.runner.max-frame-size", "abc")));
    assertEquals("RUNNER_MAX_FRAME_SIZE (bot.runner.max-frame-size) must be between 4096 and "
        + "8388607, got '100000000'", failure(Map.of("bot.runner.max-frame-size", "100000000")));
    assertEquals("RUNNER_MAX_FRAME_SIZE (bot.runner.max-frame-size) must be between 4096 and "
        + "8388607, got '99999999999999999999'",
        failure(Map.of("bot.runner.max-frame-size", "99999999999999999999")));
    assertEquals("RUNNER_UPLOAD_TIMEOUT (bot.runner.upload-timeout) must be a duration such as "
        + "10s or 500ms, got 'abc'", failure(Map.of("bot.runner.upload-timeout", "abc")));
    assertEquals("RUNNER_STREAM_MAX_BACKOFF (bot.runner.stream-max-backoff) must not be shorter "
        + "than RUNNER_STREAM_MIN_BACKOFF (bot.runner.stream-min-backoff)",
        failure(Map.of("bot.runner.stream-min-backoff", "10s", "bot.runner.stream-max-backoff", "1s")));
    assertEquals("RUNNER_STREAM_MAX_FAILURES (bot.runner.stream-max-failures) must be between 1 "
        + "and 1000, got '0'", failure(Map.of("bot.runner.stream-max-failures", "0")));
    assertEquals("RUNNER_MAX_CONNECTIONS (bot.runner.request-pool.max-connections) must be "
        + "between 1 and 100000, got '0'",
        failure(Map.of("bot.runner.request-pool.max-connections", "0")));
    assertEquals("BOT_GAP_TIMEOUT (bot.jobs.gap-timeout) must be positive, got '0s'",
        failure(Map.of("bot.jobs.gap-timeout", "0s")));
    assertEquals("BOT_REORDER_BUFFER (bot.jobs.reorder-buffer) must be a whole number, got 'x'",
        failure(Map.of("bot.jobs.reorder-buffer", "x")));
  }

  @Test
  void neverEchoesUrlCredentials() {
    String message = failure(Map.of("bot.runner.url", "ftp://svc:hunter22@runner"));
    assertFalse(message.contains("hunter22"), message);
  }

  @Test
  void neverEchoesASecret() {
    String message = failure(Map.of("bot.telegram.token", "not-a-token"));
    assertFalse(message.contains("not-a-token"), message);
  }
}
