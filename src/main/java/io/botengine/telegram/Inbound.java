package io.botengine.telegram;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.botengine.JsonSerializable;

/**
 * One Telegram update as the engine needs it, independent of the Bot API library: who wrote, in
 * which chat, and what. Travels through Cluster Sharding to the user's actor.
 */
public record Inbound(
    long updateId,
    long userId,
    long chatId,
    String languageCode,
    String text,
    Document document,
    Payment payment)
    implements JsonSerializable {

  /** A message with text or a document (no payment). */
  public Inbound(
      long updateId, long userId, long chatId, String languageCode, String text, Document document) {
    this(updateId, userId, chatId, languageCode, text, document, null);
  }

  /** A document as Telegram describes it before download; {@code size} is what Telegram reports. */
  public record Document(String fileId, String fileName, String mimeType, long size) {}

  /** What a Stars payment update says: a pre-checkout query, a payment, or a refund. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = PreCheckout.class, name = "pre_checkout"),
    @JsonSubTypes.Type(value = Paid.class, name = "paid"),
    @JsonSubTypes.Type(value = Refunded.class, name = "refunded")
  })
  public sealed interface Payment {}

  /** {@code pre_checkout_query}: Telegram asks whether to take the payment (answer within 10 s). */
  public record PreCheckout(String queryId, String currency, long totalAmount, String payload)
      implements Payment {}

  /**
   * {@code successful_payment}; {@code subscriptionExpiration} (epoch seconds, 0 if none) is set
   * for subscription payments; {@code renewal} for every one but a subscription's first.
   */
  public record Paid(
      String currency,
      long totalAmount,
      String payload,
      String chargeId,
      long subscriptionExpiration,
      boolean renewal)
      implements Payment {}

  /** {@code refunded_payment}: a payment was refunded outside the engine. */
  public record Refunded(String currency, long totalAmount, String payload, String chargeId)
      implements Payment {}

  /**
   * True for a private chat with the user (Telegram gives a private chat the user's own id); false
   * for groups, supergroups and channels, where the bot never shows account data or results.
   */
  public boolean isPrivate() {
    return chatId == userId;
  }

  /** The bot command in the text ("/cv@my_bot args" gives "/cv"), or empty. */
  public String command() {
    if (text == null || !text.startsWith("/")) {
      return "";
    }
    String first = text.strip().split("\\s+", 2)[0];
    int at = first.indexOf('@');
    return (at < 0 ? first : first.substring(0, at)).toLowerCase();
  }
}
