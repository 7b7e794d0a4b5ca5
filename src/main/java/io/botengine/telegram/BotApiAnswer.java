package io.botengine.telegram;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.botengine.Json;
import io.botengine.telegram.TelegramGateway.Failure;
import java.io.IOException;

/**
 * Reads a Bot API answer of which the engine uses no more than the message id: {@code ok}, {@code
 * result.message_id} and the error fields, in one pass of Jackson's streaming parser, where
 * telegrambots would build the whole {@code Message}. It fails as telegrambots' answer did once
 * {@link BotApiClient} had mapped it: Telegram's error with its {@code error_code},
 * {@code description} and {@code parameters.retry_after} (other parameters, such as {@code
 * migrate_to_chat_id}, were never used); code 0, which the outbox retries as a network failure, for
 * an answer it cannot read. The body is never quoted in a failure: it may hold what the user sent.
 */
final class BotApiAnswer {
  /** What a successful call's {@code result} holds. */
  enum Result {
    /** The message sent: its {@code message_id} is the call's value. */
    MESSAGE,
    /** {@code true}. */
    BOOLEAN,
    /** The edited message, or {@code true} for an inline message; the value is not read. */
    MESSAGE_OR_BOOLEAN
  }

  private BotApiAnswer() {}

  /** The message id of a {@link Result#MESSAGE} answer, else 0; a {@link Failure} otherwise. */
  static long read(String body, Result expected) {
    Boolean ok = null;
    JsonToken result = null;
    Integer messageId = null;
    Integer errorCode = null;
    String description = null;
    Integer retryAfter = null;
    try (JsonParser p = Json.MAPPER.getFactory().createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw unreadable("not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        switch (field) {
          case "ok" -> ok = value.isBoolean() ? value == JsonToken.VALUE_TRUE : null;
          case "result" -> {
            result = value;
            messageId = value == JsonToken.START_OBJECT ? intField(p, "message_id") : null;
          }
          case "error_code" -> errorCode = intOrNull(p);
          case "description" -> description = textOrNull(p);
          case "parameters" ->
              retryAfter = value == JsonToken.START_OBJECT ? intField(p, "retry_after") : null;
          default -> { }
        }
        p.skipChildren();
      }
    } catch (IOException e) {
      throw unreadable("not JSON (" + e.getClass().getSimpleName() + ")");
    }
    if (ok == null) {
      throw unreadable("no ok");
    }
    if (!ok) {
      if (errorCode == null) {
        throw new Failure(0, "refused without an error_code: " + description, null);
      }
      throw new Failure(errorCode, description, retryAfter);
    }
    return switch (expected) {
      case MESSAGE -> {
        if (result != JsonToken.START_OBJECT || messageId == null) {
          throw unreadable("no result.message_id");
        }
        yield messageId;
      }
      case BOOLEAN -> {
        if (result == JsonToken.START_OBJECT || result == JsonToken.START_ARRAY) {
          throw unreadable("result is not a boolean");
        }
        yield 0;
      }
      case MESSAGE_OR_BOOLEAN -> {
        if (result == JsonToken.START_ARRAY) {
          throw unreadable("result is neither a message nor a boolean");
        }
        yield 0;
      }
    };
  }

  /** The int {@code name} of the object the parser is at the start of; the rest is skipped. */
  private static Integer intField(JsonParser p, String name) throws IOException {
    Integer value = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      if (field.equals(name)) {
        value = intOrNull(p);
      } else {
        p.skipChildren();
      }
    }
    return value;
  }

  /** An int as telegrambots' Integer fields take it; a value of another kind is unreadable. */
  private static Integer intOrNull(JsonParser p) throws IOException {
    return switch (p.currentToken()) {
      case VALUE_NULL -> null;
      case VALUE_NUMBER_INT -> p.getIntValue();
      default -> throw unreadable("a number expected at " + p.currentName());
    };
  }

  private static String textOrNull(JsonParser p) throws IOException {
    JsonToken value = p.currentToken();
    if (!value.isScalarValue()) {
      throw unreadable("a text expected at " + p.currentName());
    }
    return value == JsonToken.VALUE_NULL ? null : p.getText();
  }

  private static Failure unreadable(String why) {
    return new Failure(0, "unreadable Bot API answer: " + why, null);
  }
}
