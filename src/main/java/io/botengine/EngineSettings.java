package io.botengine;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.botengine.job.RunnerSettings;
import io.botengine.webapp.WebAppSettings;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The engine's own settings ({@code bot { ... }}), read once at start and validated. A missing or
 * malformed setting raises {@link SettingsException} whose message is one line naming the
 * environment variable (or config path) to fix.
 */
public record EngineSettings(
    Telegram telegram,
    Delivery delivery,
    Http http,
    String adminToken,
    Billing billing,
    Payments payments,
    UserSettings user,
    Persistence persistence,
    ClusterSettings cluster,
    Duration askTimeout,
    Ops ops) {

  /**
   * Operating the node: the bearer token of {@code GET /metrics} (empty: none), the log format, the
   * web event API ({@code bot.webapp.*}).
   */
  public record Ops(String metricsToken, String logFormat, WebAppSettings webApp) {}

  /** Bot API access and ingress mode. */
  public record Telegram(
      String token,
      String apiUrl,
      Mode mode,
      String webhookSecret,
      String webhookPath,
      String webhookPublicUrl,
      Duration pollTimeout,
      int pollLimit,
      Duration pollMinBackoff,
      Duration pollMaxBackoff,
      long maxFileSize,
      int clientMaxRequests,
      int clientMaxQueued,
      Duration clientConnectTimeout,
      Duration clientReadTimeout) {
    public boolean sandbox() {
      return token.isEmpty();
    }
  }

  /** How messages leave: rates, retries, the progress display. */
  public record Delivery(
      double globalRate,
      double globalHeadroom,
      boolean paidBroadcast,
      double paidBroadcastRate,
      double chatRate,
      int chatBurst,
      int maxAttempts,
      Duration minBackoff,
      Duration maxBackoff,
      Duration typingInterval,
      Duration progressInterval) {}

  /** How updates reach the engine. */
  public enum Mode {
    POLLING,
    WEBHOOK
  }

  /** The engine's HTTP server. */
  public record Http(String host, int port) {}

  /** Prices and grants. */
  public record Billing(long cvCost, long welcomeTokens, boolean requireSubscription) {}

  /**
   * What {@code /buy} sells for Telegram Stars: token packs and, when {@code subscription.stars}
   * is above 0, a monthly subscription. {@code supportChatId} (0: none) receives /paysupport
   * requests; {@code supportContact} is how users are told to reach support.
   */
  public record Payments(
      List<Pack> packs, Subscription subscription, long supportChatId, String supportContact) {
    /** Telegram's highest price of a Stars subscription. */
    public static final long MAX_SUBSCRIPTION_STARS = 10_000;

    /** Nothing on sale: /buy tells users to contact the administrator. */
    public static final Payments NONE = new Payments(List.of(), new Subscription(0, 0), 0, "");

    public Payments {
      packs = List.copyOf(packs);
    }

    /** {@code tokens} for {@code stars}. */
    public record Pack(long tokens, long stars) {}

    /** {@code stars} a month (0: not on offer), granting {@code tokens} with each payment. */
    public record Subscription(long stars, long tokens) {
      public boolean offered() {
        return stars > 0;
      }
    }

    public boolean onSale() {
      return !packs.isEmpty() || subscription.offered();
    }
  }

  /** Per-user actor tuning. */
  public record UserSettings(int snapshotEvery, int dedupWindow, int ledgerShown) {}

  /** Journal database. */
  public record Persistence(
      String jdbcUrl, String user, String password, boolean createSchema, Dialect dialect) {}

  /** The databases the journal runs on. */
  public enum Dialect {
    H2("slick.jdbc.H2Profile$", "org.h2.Driver", "h2-create-schema.sql"),
    POSTGRES("slick.jdbc.PostgresProfile$", "org.postgresql.Driver", "postgres-create-schema.sql");

    public final String slickProfile;
    public final String driver;
    public final String schemaFile;

    Dialect(String slickProfile, String driver, String schemaFile) {
      this.slickProfile = slickProfile;
      this.driver = driver;
      this.schemaFile = schemaFile;
    }

    /** The database a JDBC URL names, or null if the engine runs on neither. */
    public static Dialect of(String jdbcUrl) {
      return jdbcUrl.startsWith("jdbc:postgresql:") ? POSTGRES
          : jdbcUrl.startsWith("jdbc:h2:") ? H2 : null;
    }
  }

  /** This node's place in the cluster. */
  public record ClusterSettings(String host, int port, List<String> seedNodes, String systemName) {}

  /** A setting that is missing or malformed; the message is meant for the operator, as is. */
  public static final class SettingsException extends RuntimeException {
    public SettingsException(String message) {
      super(message);
    }
  }

  private static final Map<String, String> ENV_NAMES =
      Map.ofEntries(
          Map.entry("bot.telegram.token", "TELEGRAM_BOT_TOKEN"),
          Map.entry("bot.telegram.api-url", "TELEGRAM_API_URL"),
          Map.entry("bot.telegram.mode", "TELEGRAM_MODE"),
          Map.entry("bot.telegram.webhook.secret", "TELEGRAM_WEBHOOK_SECRET"),
          Map.entry("bot.telegram.webhook.public-url", "TELEGRAM_WEBHOOK_URL"),
          Map.entry("bot.http.port", "HTTP_PORT"),
          Map.entry("bot.runner.url", "RUNNER_URL"),
          Map.entry("bot.http.host", "HTTP_HOST"),
          Map.entry("bot.admin.api-token", "ADMIN_API_TOKEN"),
          Map.entry("bot.metrics.token", "METRICS_TOKEN"),
          Map.entry("bot.log-format", "LOG_FORMAT"),
          Map.entry("bot.persistence.jdbc-url", "JDBC_URL"),
          Map.entry("bot.persistence.user", "JDBC_USER"),
          Map.entry("bot.persistence.password", "JDBC_PASSWORD"),
          Map.entry("bot.persistence.max-connections", "JDBC_MAX_CONNECTIONS"),
          Map.entry("bot.cluster.host", "CLUSTER_HOST"),
          Map.entry("bot.cluster.port", "CLUSTER_PORT"),
          Map.entry("bot.cluster.seed-nodes", "CLUSTER_SEED_NODES"),
          Map.entry("bot.cluster.sbr-stable-after", "CLUSTER_SBR_STABLE_AFTER"),
          Map.entry("bot.billing.cv-cost", "BOT_CV_COST"),
          Map.entry("bot.billing.welcome-tokens", "BOT_WELCOME_TOKENS"),
          Map.entry("bot.billing.require-subscription", "BOT_REQUIRE_SUBSCRIPTION"),
          Map.entry("bot.payments.packs", "BOT_PAYMENT_PACKS"),
          Map.entry("bot.payments.subscription.stars", "BOT_SUBSCRIPTION_STARS"),
          Map.entry("bot.payments.subscription.tokens", "BOT_SUBSCRIPTION_TOKENS"),
          Map.entry("bot.payments.support.chat-id", "BOT_PAYSUPPORT_CHAT_ID"),
          Map.entry("bot.payments.support.contact", "BOT_PAYSUPPORT_CONTACT"),
          Map.entry("bot.user.snapshot-every", "BOT_SNAPSHOT_EVERY"),
          Map.entry("bot.jobs.wake-interval", "BOT_WAKE_INTERVAL"),
          Map.entry("bot.ask-timeout", "BOT_ASK_TIMEOUT"),
          Map.entry("bot.telegram.delivery.global-rate", "TELEGRAM_GLOBAL_RATE"),
          Map.entry("bot.telegram.delivery.global-headroom", "TELEGRAM_GLOBAL_HEADROOM"),
          Map.entry("bot.telegram.delivery.paid-broadcast", "TELEGRAM_PAID_BROADCAST"),
          Map.entry("bot.telegram.delivery.paid-broadcast-rate", "TELEGRAM_PAID_BROADCAST_RATE"),
          Map.entry("bot.telegram.delivery.chat-rate", "TELEGRAM_CHAT_RATE"),
          Map.entry("bot.persistence.create-schema", "BOT_CREATE_SCHEMA"),
          Map.entry("bot.jobs.reorder-buffer", "BOT_REORDER_BUFFER"),
          Map.entry("bot.jobs.gap-timeout", "BOT_GAP_TIMEOUT"),
          Map.entry("bot.streaming.mode", "BOT_STREAMING_MODE"),
          Map.entry("bot.streaming.preview-interval", "BOT_STREAMING_PREVIEW_INTERVAL"),
          Map.entry("bot.streaming.edit-interval", "BOT_STREAMING_EDIT_INTERVAL"),
          Map.entry("bot.streaming.draft-refresh", "BOT_STREAMING_DRAFT_REFRESH"),
          Map.entry("bot.runner.api-key", "RUNNER_API_KEY"),
          Map.entry("bot.runner.upload-timeout", "RUNNER_UPLOAD_TIMEOUT"),
          Map.entry("bot.runner.request-timeout", "RUNNER_REQUEST_TIMEOUT"),
          Map.entry("bot.runner.stream-idle-timeout", "RUNNER_STREAM_IDLE_TIMEOUT"),
          Map.entry("bot.runner.stream-min-backoff", "RUNNER_STREAM_MIN_BACKOFF"),
          Map.entry("bot.runner.stream-max-backoff", "RUNNER_STREAM_MAX_BACKOFF"),
          Map.entry("bot.runner.stream-max-failures", "RUNNER_STREAM_MAX_FAILURES"),
          Map.entry("bot.runner.max-frame-size", "RUNNER_MAX_FRAME_SIZE"),
          Map.entry("bot.runner.poll-interval", "RUNNER_POLL_INTERVAL"),
          Map.entry("bot.runner.poll-max-duration", "RUNNER_POLL_MAX_DURATION"),
          Map.entry("bot.runner.request-pool.max-connections", "RUNNER_MAX_CONNECTIONS"));

  /** Names a setting the way an operator sets it: the env variable, else the config path. */
  public static String nameOf(String path) {
    String env = ENV_NAMES.get(path);
    return env == null ? path : env + " (" + path + ")";
  }

  /** Reads and validates {@code bot { ... }} from a resolved config. */
  public static EngineSettings from(Config config) {
    Reader r = new Reader(config);
    String token = r.string("bot.telegram.token").trim();
    String modeName = r.string("bot.telegram.mode").trim();
    Mode mode =
        switch (modeName.toLowerCase()) {
          case "polling" -> Mode.POLLING;
          case "webhook" -> Mode.WEBHOOK;
          default -> throw r.bad("bot.telegram.mode", "must be 'polling' or 'webhook'", modeName);
        };
    String secret = r.string("bot.telegram.webhook.secret");
    if (!token.isEmpty() && mode == Mode.WEBHOOK && secret.isBlank()) {
      throw new SettingsException(
          nameOf("bot.telegram.webhook.secret") + " is required when TELEGRAM_MODE=webhook");
    }
    if (!token.isEmpty() && !token.matches("[0-9]+:[A-Za-z0-9_-]+")) {
      throw new SettingsException(
          nameOf("bot.telegram.token") + " is malformed: expected <digits>:<letters>");
    }
    String apiUrl = r.httpUrl("bot.telegram.api-url", true);
    if (!token.isEmpty()) {
      if (r.string("bot.runner.url").isBlank()) {
        throw new SettingsException(nameOf("bot.runner.url") + " is missing: the Runner's base URL");
      }
      r.httpUrl("bot.runner.url", false);
    }
    String publicUrl = r.string("bot.telegram.webhook.public-url").trim();
    if (!publicUrl.isEmpty()) {
      r.httpUrl("bot.telegram.webhook.public-url", false);
    }
    Telegram telegram =
        new Telegram(
            token,
            apiUrl,
            mode,
            secret,
            r.string("bot.telegram.webhook.path"),
            publicUrl,
            r.positiveDuration("bot.telegram.polling.timeout"),
            r.intIn("bot.telegram.polling.limit", 1, 100),
            r.positiveDuration("bot.telegram.polling.min-backoff"),
            r.positiveDuration("bot.telegram.polling.max-backoff"),
            r.longIn("bot.telegram.max-file-size", 1, 20L * 1024 * 1024),
            r.intIn("bot.telegram.client.max-requests", 1, 100_000),
            r.intIn("bot.telegram.client.max-queued", 1, 1_000_000),
            r.positiveDuration("bot.telegram.client.connect-timeout"),
            r.positiveDuration("bot.telegram.client.read-timeout"));
    if (telegram.clientReadTimeout().compareTo(telegram.pollTimeout()) <= 0) {
      throw new SettingsException(
          "bot.telegram.client.read-timeout must be longer than bot.telegram.polling.timeout");
    }
    Delivery delivery =
        new Delivery(
            r.rate("bot.telegram.delivery.global-rate"),
            r.fraction("bot.telegram.delivery.global-headroom"),
            r.bool("bot.telegram.delivery.paid-broadcast"),
            r.rate("bot.telegram.delivery.paid-broadcast-rate"),
            r.rate("bot.telegram.delivery.chat-rate"),
            r.intIn("bot.telegram.delivery.chat-burst", 1, 1000),
            r.intIn("bot.telegram.delivery.max-attempts", 1, 100),
            r.positiveDuration("bot.telegram.delivery.min-backoff"),
            r.positiveDuration("bot.telegram.delivery.max-backoff"),
            r.positiveDuration("bot.telegram.delivery.typing-interval"),
            r.positiveDuration("bot.telegram.delivery.progress-interval"));
    Http http = new Http(r.string("bot.http.host"), r.intIn("bot.http.port", 0, 65535));
    Billing billing =
        new Billing(
            r.longIn("bot.billing.cv-cost", 0, 1_000_000),
            r.longIn("bot.billing.welcome-tokens", 0, 1_000_000),
            r.bool("bot.billing.require-subscription"));
    Payments payments =
        new Payments(
            r.packs("bot.payments.packs"),
            new Payments.Subscription(
                r.longIn("bot.payments.subscription.stars", 0, Payments.MAX_SUBSCRIPTION_STARS),
                r.longIn("bot.payments.subscription.tokens", 0, 1_000_000)),
            r.longIn("bot.payments.support.chat-id", Long.MIN_VALUE, Long.MAX_VALUE),
            r.string("bot.payments.support.contact").trim());
    UserSettings user =
        new UserSettings(
            r.intIn("bot.user.snapshot-every", 1, 1_000_000),
            r.intIn("bot.user.dedup-window", 1, 100_000),
            r.intIn("bot.user.ledger-shown", 1, 1000));
    String jdbcUrl = r.string("bot.persistence.jdbc-url").trim();
    Dialect dialect = Dialect.of(jdbcUrl);
    if (dialect == Dialect.H2) {
      // H2 closes an embedded database from a JVM shutdown hook of its own, which on SIGTERM runs
      // beside coordinated shutdown and fails the last writes of a graceful stop; the engine
      // closes its connections itself once the actor system has stopped.
      if (!jdbcUrl.toUpperCase(java.util.Locale.ROOT).contains("DB_CLOSE_ON_EXIT")) {
        jdbcUrl = jdbcUrl + ";DB_CLOSE_ON_EXIT=FALSE";
      }
    } else if (dialect == null) {
      throw r.bad("bot.persistence.jdbc-url", "must start with jdbc:postgresql: or jdbc:h2:", jdbcUrl);
    }
    Persistence persistence =
        new Persistence(
            jdbcUrl,
            r.string("bot.persistence.user"),
            r.string("bot.persistence.password"),
            r.bool("bot.persistence.create-schema"),
            dialect);
    r.intIn("bot.persistence.max-connections", 1, 1000);
    checkWakeInterval(r);
    r.intIn("bot.jobs.reorder-buffer", 1, 100_000);
    r.positiveDuration("bot.jobs.gap-timeout");
    checkStreaming(r);
    checkRunner(r);
    r.positiveDuration("bot.cluster.sbr-stable-after");
    ClusterSettings cluster =
        new ClusterSettings(
            r.string("bot.cluster.host"),
            r.intIn("bot.cluster.port", 0, 65535),
            r.seedNodes("bot.cluster.seed-nodes"),
            r.string("bot.cluster.system-name"));
    return new EngineSettings(
        telegram,
        delivery,
        http,
        r.string("bot.admin.api-token"),
        billing,
        payments,
        user,
        persistence,
        cluster,
        r.positiveDuration("bot.ask-timeout"),
        ops(r));
  }

  private static Ops ops(Reader r) {
    String format = r.string("bot.log-format");
    if (!format.equals("text") && !format.equals("json")) {
      throw r.bad("bot.log-format", "must be 'text' or 'json'", format);
    }
    WebAppSettings webApp =
        new WebAppSettings(
            r.positiveDuration("bot.webapp.max-auth-age"),
            r.intIn("bot.webapp.events-kept", 1, 100_000),
            r.intIn("bot.webapp.connection-buffer", 2, 100_000),
            r.positiveDuration("bot.webapp.heartbeat"),
            r.positiveDuration("bot.webapp.linger"),
            r.positiveDuration("bot.webapp.handshake-retry"),
            r.positiveDuration("bot.webapp.handshake-timeout"));
    // Read by WebEvents, an extension that starts with the actor system; checked here.
    r.positiveDuration("bot.webapp.topic-idle");
    r.positiveDuration("bot.webapp.unfollowed-topic-idle");
    return new Ops(r.string("bot.metrics.token"), format, webApp);
  }

  /**
   * {@code bot.streaming}, which {@code JobSettings} reads: the mode, the intervals, and a draft
   * refresh that comes before Telegram's draft expiry (about 30 s).
   */
  private static void checkStreaming(Reader r) {
    String mode = r.string("bot.streaming.mode").trim();
    if (!List.of("draft", "edit", "off").contains(mode)) {
      throw r.bad("bot.streaming.mode", "must be 'draft', 'edit' or 'off'", mode);
    }
    r.positiveDuration("bot.streaming.preview-interval");
    r.positiveDuration("bot.streaming.edit-interval");
    Duration refresh = r.positiveDuration("bot.streaming.draft-refresh");
    if (refresh.compareTo(Duration.ofSeconds(25)) > 0) {
      throw r.bad("bot.streaming.draft-refresh", "must be at most 25s (a draft expires after about"
          + " 30 s)", refresh.toString());
    }
  }

  private static final String SSE_EVENT_SIZE = "akka.http.sse.max-event-size";

  /**
   * Everything {@code RunnerSettings} and the Runner client read, checked here so that a bad value
   * stops the start with one line instead of failing inside the actor system.
   */
  private static void checkRunner(Reader r) {
    r.positiveDuration("bot.runner.upload-timeout");
    r.positiveDuration("bot.runner.request-timeout");
    r.positiveDuration("bot.runner.stream-idle-timeout");
    Duration min = r.nonNegativeDuration("bot.runner.stream-min-backoff");
    Duration max = r.nonNegativeDuration("bot.runner.stream-max-backoff");
    if (max.compareTo(min) < 0) {
      throw new SettingsException(nameOf("bot.runner.stream-max-backoff") + " must not be shorter"
          + " than " + nameOf("bot.runner.stream-min-backoff"));
    }
    r.intIn("bot.runner.stream-max-failures", 1, 1000);
    long eventSize = r.longIn(SSE_EVENT_SIZE, 8192, Integer.MAX_VALUE);
    r.intIn("bot.runner.max-frame-size", 4096, (int) eventSize - 1);
    r.positiveDuration("bot.runner.poll-interval");
    r.positiveDuration("bot.runner.poll-max-duration");
    r.intIn("bot.runner.request-pool.max-connections", 1, 100_000);
    try {
      RunnerSettings.fromConfig(r.config().getConfig("bot.runner"));
    } catch (ConfigException | IllegalArgumentException e) {
      throw new SettingsException(LogSafe.url(e.getMessage()));
    }
  }

  private static final String IDLE_TIMEOUT =
      "akka.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout";

  /**
   * The job registry's wake is what keeps a user with a running job from idle passivation, so it
   * must come more often than the idle timeout.
   */
  private static void checkWakeInterval(Reader r) {
    Duration wake = r.positiveDuration("bot.jobs.wake-interval");
    Config c = r.config();
    String strategy = "akka.cluster.sharding.passivation.strategy";
    if (!c.hasPath(strategy)
        || !"default-idle-strategy".equals(c.getString(strategy))
        || !c.hasPath(IDLE_TIMEOUT)
        || "off".equals(c.getValue(IDLE_TIMEOUT).unwrapped())) {
      return;
    }
    Duration idle = r.positiveDuration(IDLE_TIMEOUT);
    if (wake.compareTo(idle) >= 0) {
      throw new SettingsException(nameOf("bot.jobs.wake-interval") + " must be shorter than "
          + IDLE_TIMEOUT + " (" + idle.toSeconds() + "s): users with a running job would be"
          + " passivated between wakes");
    }
  }

  /** Typed access that turns every config failure into one operator-readable line. */
  private record Reader(Config config) {
    String string(String path) {
      try {
        return config.getString(path);
      } catch (ConfigException.Missing e) {
        throw new SettingsException(nameOf(path) + " is missing");
      } catch (ConfigException e) {
        throw new SettingsException(nameOf(path) + " must be text");
      }
    }

    boolean bool(String path) {
      try {
        return config.getBoolean(path);
      } catch (ConfigException e) {
        throw bad(path, "must be true or false", raw(path));
      }
    }

    long longIn(String path, long min, long max) {
      long value;
      try {
        value = config.getLong(path);
      } catch (ConfigException e) {
        throw bad(path, "must be a whole number", raw(path));
      }
      if (value < min || value > max) {
        throw bad(path, "must be between " + min + " and " + max, raw(path));
      }
      return value;
    }

    int intIn(String path, int min, int max) {
      return (int) longIn(path, min, max);
    }

    double rate(String path) {
      double value;
      try {
        value = config.getDouble(path);
      } catch (ConfigException e) {
        throw bad(path, "must be a number of calls per second (0 = no limit)", raw(path));
      }
      if (value < 0 || value > 100_000) {
        throw bad(path, "must be between 0 and 100000", Double.toString(value));
      }
      return value;
    }

    /** A share from 0 up to (not including) 0.5. */
    double fraction(String path) {
      double value;
      try {
        value = config.getDouble(path);
      } catch (ConfigException e) {
        throw bad(path, "must be a number such as 0.05", raw(path));
      }
      if (value < 0 || value >= 0.5) {
        throw bad(path, "must be at least 0 and below 0.5", Double.toString(value));
      }
      return value;
    }

    Duration positiveDuration(String path) {
      Duration d;
      try {
        d = config.getDuration(path);
      } catch (ConfigException e) {
        throw bad(path, "must be a duration such as 10s or 500ms", raw(path));
      }
      if (d.isNegative() || d.isZero()) {
        throw bad(path, "must be positive", raw(path));
      }
      return d;
    }

    Duration nonNegativeDuration(String path) {
      Duration d;
      try {
        d = config.getDuration(path);
      } catch (ConfigException e) {
        throw bad(path, "must be a duration such as 10s or 500ms", raw(path));
      }
      if (d.isNegative()) {
        throw bad(path, "must not be negative", raw(path));
      }
      return d;
    }

    String httpUrl(String path, boolean baseOnly) {
      String value = string(path).trim();
      URI uri;
      try {
        uri = URI.create(value);
      } catch (IllegalArgumentException e) {
        throw bad(path, "is not a URL", value);
      }
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())
          || uri.getHost() == null) {
        throw bad(path, "must be an http:// or https:// URL", value);
      }
      if (baseOnly && uri.getPath() != null && !uri.getPath().isEmpty() && !"/".equals(uri.getPath())) {
        throw bad(path, "must be a base URL without a path", value);
      }
      return value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
    }

    /** "tokens:stars" pairs, comma separated, each number at least 1; empty: no packs. */
    List<Payments.Pack> packs(String path) {
      String value = string(path).trim();
      List<Payments.Pack> packs = new ArrayList<>();
      if (value.isEmpty()) {
        return List.of();
      }
      for (String part : value.split(",")) {
        String[] pair = part.trim().split(":");
        if (pair.length != 2 || !pair[0].trim().matches("[0-9]{1,7}")
            || !pair[1].trim().matches("[0-9]{1,7}")) {
          throw bad(path, "must be comma-separated tokens:stars pairs such as 5:50,20:180", value);
        }
        long tokens = Long.parseLong(pair[0].trim());
        long stars = Long.parseLong(pair[1].trim());
        if (tokens < 1 || stars < 1) {
          throw bad(path, "needs at least 1 token and 1 Star in every pack", value);
        }
        packs.add(new Payments.Pack(tokens, stars));
      }
      return List.copyOf(packs);
    }

    List<String> seedNodes(String path) {
      String value = string(path).trim();
      List<String> nodes = new ArrayList<>();
      if (value.isEmpty()) {
        return List.of();
      }
      for (String part : value.split(",")) {
        String node = part.trim();
        int colon = node.lastIndexOf(':');
        if (colon <= 0 || !node.substring(colon + 1).matches("[0-9]{1,5}")) {
          throw bad(path, "must be comma-separated host:port pairs", value);
        }
        nodes.add(node);
      }
      return List.copyOf(nodes);
    }

    private String raw(String path) {
      try {
        return config.getValue(path).unwrapped().toString();
      } catch (ConfigException e) {
        return "<missing>";
      }
    }

    SettingsException bad(String path, String rule, String got) {
      boolean secret = path.contains("token") || path.contains("password") || path.contains("secret");
      String shown = secret ? "" : ", got '" + LogSafe.url(got) + "'";
      return new SettingsException(nameOf(path) + " " + rule + shown);
    }
  }
}
