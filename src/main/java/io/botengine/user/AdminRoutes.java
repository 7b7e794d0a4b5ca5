package io.botengine.user;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import akka.pattern.StatusReply;
import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.ClusterView;
import io.botengine.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The admin API under {@code /admin/users/{id}}: read a user, credit tokens (idempotent by key),
 * set or cancel the subscription, refund a Stars payment, block and unblock, cancel the running
 * job; and the operator's view: {@code /admin/jobs} (running jobs across the cluster) and {@code
 * /admin/cluster} (members, shards per node, singletons). Bearer
 * {@code ADMIN_API_TOKEN}; 401 without it, 400 with a reason on bad input, 404 for an unknown
 * payment or subscription, 409 for one refunded or cancelled already, 502 when Telegram refuses,
 * and 404 for everything when no admin token is configured.
 */
public final class AdminRoutes extends AllDirectives {
  private static final long MAX_CREDIT = 1_000_000_000L;
  static final int MAX_KEY = 200;
  static final int MAX_REASON = 500;
  /** The subscription dates an admin can set. */
  static final Instant EARLIEST = Instant.parse("1970-01-01T00:00:00Z");
  static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

  private final ActorSystem<?> system;
  private final byte[] token;
  private final Duration timeout;

  /** The running jobs (job id by user id) the job registry knows, for {@code GET /admin/jobs}. */
  @FunctionalInterface
  public interface RunningJobs {
    CompletionStage<Map<Long, String>> running(Duration timeout);
  }

  /** {@code GET /admin/jobs}: how many jobs the registry lists, and those that answered. */
  public record JobList(int running, List<AdminJobs.RunningJob> jobs) {}

  /** Jobs shown by {@code GET /admin/jobs} unless {@code ?limit=} says otherwise. */
  static final int DEFAULT_JOBS_SHOWN = 500;

  private final RunningJobs runningJobs;
  private final List<String> singletons;

  public AdminRoutes(ActorSystem<?> system, String adminToken, Duration timeout) {
    this(system, adminToken, timeout, t -> CompletableFuture.completedFuture(Map.of()), List.of());
  }

  /** {@code singletons}: the cluster singletons every node starts, for the cluster view. */
  public AdminRoutes(ActorSystem<?> system, String adminToken, Duration timeout,
      RunningJobs runningJobs, List<String> singletons) {
    this.system = system;
    this.token = ("Bearer " + adminToken).getBytes(StandardCharsets.UTF_8);
    this.timeout = timeout;
    this.runningJobs = runningJobs;
    this.singletons = List.copyOf(singletons);
  }

  public Route route() {
    return pathPrefix(
        "admin",
        () -> {
          if (token.length == "Bearer ".length()) {
            return complete(StatusCodes.NOT_FOUND, "admin API is off (ADMIN_API_TOKEN unset)");
          }
          return optionalHeaderValueByName(
              "Authorization",
              given ->
                  given.isPresent() && authorized(given.get())
                      ? concat(users(), jobs(), cluster())
                      : error(StatusCodes.UNAUTHORIZED, "missing or wrong bearer token"));
        });
  }

  private Route users() {
    return pathPrefix(
        "users",
        () ->
            pathPrefix(
                PathMatchers.segment(),
                id -> {
                  if (!id.matches("[1-9][0-9]{0,18}")) {
                    return error(StatusCodes.BAD_REQUEST, "user id must be a positive integer");
                  }
                  return concat(
                      pathEnd(() -> get(() -> ask(id, UserEntity.GetSummary::new, true))),
                      path("credit", () -> post(() -> Json.object(b -> credit(id, b)))),
                      pathPrefix("subscription", () -> concat(
                          pathEnd(() -> post(() -> Json.object(b -> subscription(id, b)))),
                          path("cancel", () -> post(() ->
                              ask(id, UserEntity.CancelSubscription::new, false))))),
                      path("refund", () -> post(() -> Json.object(b -> refund(id, b)))),
                      path("cancel", () -> post(() -> ask(id, UserEntity.CancelJob::new, false))),
                      path("block", () -> post(() -> ask(id, r -> new UserEntity.SetBlocked(true, r), false))),
                      path("unblock", () -> post(() -> ask(id, r -> new UserEntity.SetBlocked(false, r), false))));
                }));
  }

  /** {@code GET /admin/jobs[?limit=N]}: the running jobs of the cluster, oldest first. */
  private Route jobs() {
    return path("jobs", () -> get(() -> parameterOptional("limit", limit -> {
      int shown = DEFAULT_JOBS_SHOWN;
      if (limit.isPresent()) {
        if (!limit.get().matches("[1-9][0-9]{0,4}")) {
          return error(StatusCodes.BAD_REQUEST, "limit must be a whole number from 1 to 99999");
        }
        shown = Integer.parseInt(limit.get());
      }
      return onComplete(listJobs(shown), result -> result.isSuccess()
          ? json(StatusCodes.OK, result.get())
          : error(StatusCodes.SERVICE_UNAVAILABLE, "the job registry did not answer in time"));
    })));
  }

  /** Asks the registry, then each listed user actor (wherever it runs) for its job. */
  private CompletionStage<JobList> listJobs(int shown) {
    ClusterSharding sharding = ClusterSharding.get(system);
    return runningJobs.running(timeout).thenCompose(running -> {
      List<CompletableFuture<AdminJobs.RunningJob>> asks = running.keySet().stream()
          .sorted()
          .limit(shown)
          .map(userId -> sharding.entityRefFor(UserEntity.ENTITY_KEY, Long.toString(userId))
              .<AdminJobs.RunningJob>askWithStatus(UserEntity.GetRunningJob::new, timeout)
              .toCompletableFuture()
              .exceptionally(e -> null))
          .toList();
      return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
          .thenApply(done -> new JobList(running.size(), asks.stream()
              .map(CompletableFuture::join)
              .filter(Objects::nonNull)
              .sorted(Comparator.comparing(AdminJobs.RunningJob::startedAt))
              .toList()));
    });
  }

  /** {@code GET /admin/cluster}: members, shards per node, where the singletons run. */
  private Route cluster() {
    return path("cluster", () -> get(() -> onComplete(
        ClusterView.of(system, UserEntity.ENTITY_KEY, singletons, timeout),
        result -> result.isSuccess()
            ? json(StatusCodes.OK, result.get())
            : error(StatusCodes.SERVICE_UNAVAILABLE, "cluster sharding did not answer in time"))));
  }

  private Route credit(String id, JsonNode body) {
    JsonNode amount = body.get("amount");
    if (amount == null || !amount.canConvertToLong() || !amount.isIntegralNumber()
        || amount.asLong() <= 0 || amount.asLong() > MAX_CREDIT) {
      return error(StatusCodes.BAD_REQUEST, "amount must be a whole number from 1 to " + MAX_CREDIT);
    }
    String key = text(body, "idempotency_key");
    if (key == null || key.isBlank() || key.length() > MAX_KEY) {
      return error(StatusCodes.BAD_REQUEST, "idempotency_key is required (1-" + MAX_KEY
          + " characters): the same key never credits twice");
    }
    if (hasControlCharacters(key)) {
      return error(StatusCodes.BAD_REQUEST, "idempotency_key must not contain control characters");
    }
    if (key.equals(UserEntity.WELCOME_KEY) || key.startsWith("cv_analysis_")
        || key.startsWith("stars:") || key.startsWith("refund:")) {
      return error(StatusCodes.BAD_REQUEST, "idempotency_key '" + key + "' is reserved");
    }
    String reason = text(body, "reason");
    if (reason != null && reason.length() > MAX_REASON) {
      return error(StatusCodes.BAD_REQUEST, "reason must be at most " + MAX_REASON + " characters");
    }
    if (reason != null && hasControlCharacters(reason)) {
      return error(StatusCodes.BAD_REQUEST, "reason must not contain control characters");
    }
    String why = reason == null || reason.isBlank() ? "admin credit" : reason;
    return ask(id, r -> new UserEntity.Credit(amount.asLong(), why, key, r), false);
  }

  private Route refund(String id, JsonNode body) {
    String charge = text(body, "telegram_payment_charge_id");
    if (charge == null || charge.isBlank() || charge.length() > MAX_KEY
        || hasControlCharacters(charge)) {
      return error(StatusCodes.BAD_REQUEST, "telegram_payment_charge_id is required (1-" + MAX_KEY
          + " characters, no control characters)");
    }
    return ask(id, r -> new UserEntity.RefundPayment(charge, r), false);
  }

  private Route subscription(String id, JsonNode body) {
    String until = text(body, "until");
    if (until == null) {
      return error(StatusCodes.BAD_REQUEST, "until is required, e.g. \"2027-01-01T00:00:00Z\"");
    }
    Instant instant;
    try {
      instant = Instant.parse(until);
    } catch (DateTimeParseException e) {
      return error(StatusCodes.BAD_REQUEST, "until must be an ISO-8601 instant such as 2027-01-01T00:00:00Z");
    }
    if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
      return error(StatusCodes.BAD_REQUEST, "until must be between " + EARLIEST + " and " + LATEST);
    }
    return ask(id, r -> new UserEntity.SetSubscription(instant, r), false);
  }

  private Route ask(
      String id,
      Function<ActorRef<StatusReply<UserEntity.Summary>>, UserEntity.Command> command,
      boolean mustBeKnown) {
    CompletionStage<UserEntity.Summary> reply =
        ClusterSharding.get(system)
            .entityRefFor(UserEntity.ENTITY_KEY, id)
            .askWithStatus(command::apply, timeout);
    return onComplete(
        reply,
        result -> {
          if (result.isFailure()) {
            Throwable e = result.failed().get();
            if (e instanceof StatusReply.ErrorMessage) {
              return error(StatusCodes.get(AdminRefusal.status(e.getMessage())),
                  AdminRefusal.reason(e.getMessage()));
            }
            return error(StatusCodes.SERVICE_UNAVAILABLE, "user actor did not answer in time");
          }
          UserEntity.Summary summary = result.get();
          if (mustBeKnown && !summary.known()) {
            return error(StatusCodes.NOT_FOUND, "user " + id + " is unknown");
          }
          return json(StatusCodes.OK, summary);
        });
  }

  private Route error(StatusCode status, String reason) {
    return Json.error(status, reason);
  }

  private Route json(StatusCode status, Object value) {
    return Json.complete(status, value);
  }

  /** Line breaks, tabs, NUL, bidi overrides: nothing an admin string needs, all a log forger uses. */
  private static boolean hasControlCharacters(String s) {
    return s.codePoints().anyMatch(c -> Character.isISOControl(c)
        || Character.getType(c) == Character.FORMAT
        || Character.getType(c) == Character.LINE_SEPARATOR
        || Character.getType(c) == Character.PARAGRAPH_SEPARATOR);
  }

  private static String text(JsonNode body, String field) {
    JsonNode node = body.get(field);
    return node == null || !node.isTextual() ? null : node.asText();
  }

  private boolean authorized(String header) {
    return MessageDigest.isEqual(token, header.getBytes(StandardCharsets.UTF_8));
  }
}
