package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.botengine.telegram.BotApiAnswer.Result;
import io.botengine.telegram.TelegramGateway.Failure;
import java.io.Serializable;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.meta.api.methods.botapimethods.PartialBotApiMethod;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.DeleteMessage;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.EditMessageText;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;

/**
 * Every shape of answer the lean reader meets, each also read by telegrambots as the client did
 * before: the same message id, or the same failure (code, retry_after, and Telegram's description
 * where Telegram gave an error code).
 */
class BotApiAnswerTest {
  private static final String MESSAGE =
      "{\"ok\":true,\"result\":{\"reply_to_message\":{\"message_id\":7,\"chat\":{\"id\":5,"
          + "\"type\":\"private\"},\"date\":1},\"chat\":{\"id\":5,\"type\":\"private\"},"
          + "\"date\":2,\"text\":\"hi\",\"entities\":[{\"type\":\"bold\",\"offset\":0,"
          + "\"length\":2}],\"message_id\":42}}";

  private static final SendMessage SEND = new SendMessage("5", "hi");
  private static final EditMessageText EDIT =
      EditMessageText.builder().chatId(5L).messageId(42).text("hi").build();
  private static final DeleteMessage DELETE = new DeleteMessage("5", 42);

  @Test
  void readsTheMessageIdOfTheMessageSentNotOfOneItQuotes() {
    assertEquals(42, BotApiAnswer.read(MESSAGE, Result.MESSAGE));
    assertSameAsTelegrambots(SEND, MESSAGE, Result.MESSAGE);
  }

  @Test
  void acceptsTrueWhereTheResultIsABooleanAndAMessageOrTrueForAnEdit() {
    String accepted = "{\"ok\":true,\"result\":true}";

    assertEquals(0, BotApiAnswer.read(accepted, Result.BOOLEAN));
    assertEquals(0, BotApiAnswer.read(accepted, Result.MESSAGE_OR_BOOLEAN));
    assertEquals(0, BotApiAnswer.read(MESSAGE, Result.MESSAGE_OR_BOOLEAN));
    assertSameAsTelegrambots(DELETE, accepted, Result.BOOLEAN);
    assertSameAsTelegrambots(EDIT, accepted, Result.MESSAGE_OR_BOOLEAN);
    assertSameAsTelegrambots(EDIT, MESSAGE, Result.MESSAGE_OR_BOOLEAN);
  }

  @Test
  void tooManyRequestsFailsWithItsCodeDescriptionAndRetryAfter() {
    String flood = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: "
        + "retry after 7\",\"parameters\":{\"retry_after\":7}}";

    Failure failure = failure(flood, Result.MESSAGE);

    assertEquals(429, failure.code);
    assertEquals(7, failure.retryAfterSeconds);
    assertEquals("Too Many Requests: retry after 7", failure.getMessage());
    for (Result result : Result.values()) {
      assertSameAsTelegrambots(method(result), flood, result);
    }
  }

  @Test
  void migratedGroupFailsAs400WithoutRetryAfter() {
    String migrated = "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: group chat"
        + " was upgraded to a supergroup chat\",\"parameters\":{\"migrate_to_chat_id\":"
        + "-1001234567890}}";

    Failure failure = failure(migrated, Result.MESSAGE);

    assertEquals(400, failure.code);
    assertNull(failure.retryAfterSeconds);
    assertEquals("Bad Request: group chat was upgraded to a supergroup chat",
        failure.getMessage());
    assertSameAsTelegrambots(SEND, migrated, Result.MESSAGE);
  }

  @Test
  void refusalsKeepTheirCodeAndDescriptionWhateverTheirFieldOrder() {
    String blocked = "{\"description\":\"Forbidden: bot was blocked by the user\","
        + "\"error_code\":403,\"ok\":false}";
    String markup = "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: can't parse"
        + " entities: unclosed tag\",\"parameters\":{}}";
    String bare = "{\"ok\":false,\"error_code\":502}";

    assertEquals(403, failure(blocked, Result.BOOLEAN).code);
    assertEquals(true, failure(markup, Result.MESSAGE).markupRejected());
    assertNull(failure(bare, Result.MESSAGE).getMessage());
    for (String refusal : new String[] {blocked, markup, bare}) {
      for (Result result : Result.values()) {
        assertSameAsTelegrambots(method(result), refusal, result);
      }
    }
  }

  @Test
  void unreadableAnswersFailAsNetworkFailuresWithoutQuotingTheBody() {
    String[] unreadable = {
      "<html><body>502 Bad Gateway: secret words</body></html>",
      "{\"ok\":true,\"result\":{\"message_id\":42,\"text\":\"secret words\"",
      "",
      "[\"secret words\"]",
      "{\"result\":{\"message_id\":42,\"text\":\"secret words\"}}",
      "{\"ok\":false,\"error_code\":\"secret words\"}",
      "{\"ok\":true,\"result\":{\"message_id\":\"secret words\"}}",
    };
    for (String body : unreadable) {
      for (Result result : Result.values()) {
        Failure failure = failure(body, result);
        assertEquals(0, failure.code, body);
        assertNull(failure.retryAfterSeconds, body);
        assertFalse(failure.getMessage().contains("secret"), failure.getMessage());
        assertSameAsTelegrambots(method(result), body, result);
      }
    }
  }

  @Test
  void aMessageWithoutItsIdFailsAsANetworkFailure() {
    String[] noId = {
      "{\"ok\":true,\"result\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"date\":2}}",
      "{\"ok\":true,\"result\":true}",
      "{\"ok\":true,\"result\":null}",
      "{\"ok\":true}",
    };
    for (String body : noId) {
      assertEquals(0, failure(body, Result.MESSAGE).code, body);
      assertSameAsTelegrambots(SEND, body, Result.MESSAGE);
    }
  }

  @Test
  void aBooleanCallTakesAnOkAnswerWithoutAResultAsTelegrambotsDid() {
    for (String body : new String[] {"{\"ok\":true}", "{\"ok\":true,\"result\":false}"}) {
      assertEquals(0, BotApiAnswer.read(body, Result.BOOLEAN), body);
      assertSameAsTelegrambots(DELETE, body, Result.BOOLEAN);
    }
  }

  /** What the client made of this answer before: a value, or a failure with a code. */
  private record Outcome(int code, String description, Integer retryAfter, long value) {}

  private static void assertSameAsTelegrambots(
      PartialBotApiMethod<?> method, String body, Result result) {
    Outcome before = telegrambots(method, body, result);
    Outcome lean;
    try {
      lean = new Outcome(-1, null, null, BotApiAnswer.read(body, result));
    } catch (Failure f) {
      lean = new Outcome(f.code, f.code == 0 ? null : f.getMessage(), f.retryAfterSeconds, 0);
    }
    assertEquals(before, lean, body);
  }

  /**
   * As BotApiClient read an answer before: telegrambots' value, its exception mapped as {@code
   * toFailure} mapped it, and any other exception (a missing ok or message id) a network failure,
   * as the outbox takes it.
   */
  private static Outcome telegrambots(PartialBotApiMethod<?> method, String body, Result result) {
    try {
      Serializable value = method.deserializeResponse(body);
      if (result != Result.MESSAGE) {
        return new Outcome(-1, null, null, 0);
      }
      return new Outcome(-1, null, null, ((Message) value).getMessageId().longValue());
    } catch (TelegramApiRequestException e) {
      if (e.getErrorCode() == null || e.getErrorCode() == 0) {
        return new Outcome(0, null, null, 0);
      }
      Integer retryAfter = e.getParameters() == null ? null : e.getParameters().getRetryAfter();
      return new Outcome(e.getErrorCode(), e.getApiResponse(), retryAfter, 0);
    } catch (RuntimeException e) {
      return new Outcome(0, null, null, 0);
    }
  }

  private static PartialBotApiMethod<?> method(Result result) {
    return switch (result) {
      case MESSAGE -> SEND;
      case BOOLEAN -> DELETE;
      case MESSAGE_OR_BOOLEAN -> EDIT;
    };
  }

  private static Failure failure(String body, Result result) {
    return assertThrows(Failure.class, () -> BotApiAnswer.read(body, result), body);
  }
}
