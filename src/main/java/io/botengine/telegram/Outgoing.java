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

  /** New text for a message the bot sent earlier. */
  record Edit(long messageId, String text) implements Outgoing {}

  /** Removes a message the bot sent earlier. */
  record Delete(long messageId) implements Outgoing {}
}
