package io.botengine.sandbox;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.scaladsl.model.EntityStreamSizeException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Failures;
import io.botengine.Json;
import io.botengine.sandbox.BotApiParams.Failure;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Bot API emulator's answers in Telegram's envelope: {@code {"ok": true, "result": ...}}. */
final class BotApiReplies {
  private static final Logger log = LoggerFactory.getLogger(BotApiEmulator.class);

  private BotApiReplies() {}

  static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  static byte[] json(JsonNode node) {
    try {
      return Json.MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static HttpResponse ok(JsonNode result) {
    return ok(result, null);
  }

  static HttpResponse ok(JsonNode result, String description) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("ok", true);
    body.set("result", result);
    if (description != null) {
      body.put("description", description);
    }
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json(body));
  }

  static HttpResponse failure(Failure f) {
    return failure(f.code, f.getMessage(), f.retryAfter);
  }

  static HttpResponse failure(int code, String description, Integer retryAfter) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("ok", false);
    body.put("error_code", code);
    body.put("description", description);
    if (retryAfter != null) {
      body.putObject("parameters").put("retry_after", retryAfter);
    }
    StatusCode status =
        StatusCodes.lookup(code).orElseGet(() -> StatusCodes.custom(code, "Error", description));
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(ContentTypes.APPLICATION_JSON, json(body));
  }

  /** A call that failed: Telegram's error when it was one, 413 past the size limit, else 400. */
  static HttpResponse failure(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof Failure f) {
        return failure(f);
      }
      if (t instanceof EntityStreamSizeException) {
        return failure(413, "Request Entity Too Large", null);
      }
    }
    Throwable cause = Failures.cause(error);
    log.warn("Bot API emulator could not handle a call", cause);
    return failure(400, "Bad Request: " + cause.getMessage(), null);
  }
}
