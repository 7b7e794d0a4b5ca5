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
import io.botengine.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The admin API under {@code /admin/users/{id}}: read a user, credit tokens (idempotent by key),
 * set or cancel the subscription, refund a Stars payment, block and unblock. Bearer
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

  public AdminRoutes(ActorSystem<?> system, String adminToken, Duration timeout) {
    this.system = system;
    this.token = ("Bearer " + adminToken).getBytes(StandardCharsets.UTF_8);
    this.timeout = timeout;
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
                      ? users()
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
                      path("block", () -> post(() -> ask(id, r -> new UserEntity.SetBlocked(true, r), false))),
                      path("unblock", () -> post(() -> ask(id, r -> new UserEntity.SetBlocked(false, r), false))));
                }));
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
