package io.botengine.telegram;

/** A call the bot makes to a chat. */
public sealed interface Outgoing {
  /** A text message; {@code parseMode} is "HTML", "Markdown" or null for plain text. */
  record Text(String text, String parseMode) implements Outgoing {
    public static Text plain(String text) {
      return new Text(text, null);
    }
  }

  /** A document made from bytes, with an optional caption. */
  record Document(String fileName, byte[] content, String caption) implements Outgoing {}

  /** "typing…" in the chat header; best effort, never retried. */
  record Typing() implements Outgoing {}

  /** New text for a message the bot sent earlier; {@code parseMode} as for {@link Text}. */
  record Edit(long messageId, String text, String parseMode) implements Outgoing {
    public Edit(long messageId, String text) {
      this(messageId, text, null);
    }
  }

  /**
   * A message draft (Bot API {@code sendMessageDraft}, private chats only): {@code text}, plain,
   * shown growing under {@code draftId} (non-zero) until the bot sends the real message or the
   * draft expires (about 30 s). A preview, never a delivery: best effort, never retried.
   */
  record Draft(int draftId, String text) implements Outgoing {}

  /** Removes a message the bot sent earlier. */
  record Delete(long messageId) implements Outgoing {}

  /** A Telegram Stars invoice (currency XTR, one price); {@code payload} returns with the payment. */
  record Invoice(String title, String description, String payload, long stars)
      implements Outgoing {}

  /**
   * A monthly Stars subscription: an invoice link with Telegram's 30-day period, sent as
   * {@code text} with one button ({@code button}) that opens it.
   */
  record SubscriptionOffer(
      String text, String button, String title, String description, String payload, long stars)
      implements Outgoing {}
}
