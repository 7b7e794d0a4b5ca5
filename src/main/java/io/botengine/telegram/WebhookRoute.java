package io.botengine.telegram;

import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import io.botengine.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.telegram.telegrambots.meta.api.objects.Update;

/**
 * {@code POST /telegram/webhook}: 401 without the right {@code X-Telegram-Bot-Api-Secret-Token},
 * 400 for a body that is not an update, 200 once the user's actor accepted the update, 503 when it
 * could not (Telegram then sends the update again).
 */
public final class WebhookRoute extends AllDirectives {
  static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";

  private final String path;
  private final byte[] secret;
  private final UserDirectory users;

  public WebhookRoute(String path, String secret, UserDirectory users) {
    this.path = path.startsWith("/") ? path.substring(1) : path;
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
    this.users = users;
  }

  public Route route() {
    return path(
        akka.http.javadsl.server.PathMatchers.separateOnSlashes(path),
        () ->
            post(
                () ->
                    optionalHeaderValueByName(
                        SECRET_HEADER,
                        given -> {
                          if (given.isEmpty() || !matches(given.get())) {
                            return complete(StatusCodes.UNAUTHORIZED, "wrong secret token");
                          }
                          return entity(
                              akka.http.javadsl.unmarshalling.Unmarshaller.entityToString(),
                              this::accept);
                        })));
  }

  private Route accept(String body) {
    Update update;
    try {
      update = Json.MAPPER.readValue(body, Update.class);
    } catch (Exception e) {
      return complete(StatusCodes.BAD_REQUEST, "not a Telegram update");
    }
    if (update.getUpdateId() == null) {
      return complete(StatusCodes.BAD_REQUEST, "update_id is missing");
    }
    var inbound = Updates.toInbound(update);
    if (inbound.isEmpty()) {
      return complete(StatusCodes.OK);
    }
    return onComplete(
        users.deliver(inbound.get()),
        done ->
            done.isSuccess()
                ? complete(StatusCodes.OK)
                : complete(StatusCodes.SERVICE_UNAVAILABLE, "not accepted, retry"));
  }

  private boolean matches(String given) {
    return MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8));
  }
}
