package io.botengine.telegram;

import java.util.concurrent.CompletionStage;

/** The Bot API calls the engine makes, none of them blocking. */
public interface TelegramGateway {
  /** Sends one message; completes with its message id or fails with {@link Failure}. */
  CompletionStage<Long> send(long chatId, Outgoing message);

  /** getFile + download; fails with {@link Failure} (code 413 when over {@code maxBytes}). */
  CompletionStage<byte[]> download(String fileId, long maxBytes);

  /** answerPreCheckoutQuery: takes the payment when {@code errorMessage} is null, else refuses it. */
  default CompletionStage<Boolean> answerPreCheckout(String queryId, String errorMessage) {
    return unsupported("answerPreCheckoutQuery");
  }

  /** refundStarPayment: gives the user back the Stars of one payment. */
  default CompletionStage<Boolean> refundStarPayment(long userId, String chargeId) {
    return unsupported("refundStarPayment");
  }

  /** editUserStarSubscription: the subscription paid by {@code chargeId} is not renewed again. */
  default CompletionStage<Boolean> cancelStarSubscription(long userId, String chargeId) {
    return unsupported("editUserStarSubscription");
  }

  private static <T> CompletionStage<T> unsupported(String method) {
    return java.util.concurrent.CompletableFuture.failedFuture(
        new Failure(404, "Not Found: method " + method + " is not supported here", null));
  }

  /**
   * A Bot API call that failed: {@code code} is Telegram's error_code (429, 400, 403, ...) or 0
   * for a network failure; {@code retryAfterSeconds} is set for 429.
   */
  final class Failure extends RuntimeException {
    public final int code;
    public final Integer retryAfterSeconds;

    public Failure(int code, String description, Integer retryAfterSeconds) {
      super(description);
      this.code = code;
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public boolean markupRejected() {
      String d = getMessage() == null ? "" : getMessage().toLowerCase();
      return code == 400 && d.contains("can't parse entities");
    }
  }
}
