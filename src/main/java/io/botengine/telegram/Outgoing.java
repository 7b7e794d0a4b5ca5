package io.botengine.telegram;

/** A message the bot sends to a chat. */
public sealed interface Outgoing {
  /** A text message; {@code parseMode} is "HTML", "Markdown" or null for plain text. */
  record Text(String text, String parseMode) implements Outgoing {
    public static Text plain(String text) {
      return new Text(text, null);
    }
  }

  /** A document made from bytes, with an optional caption. */
  record Document(String fileName, byte[] content, String caption) implements Outgoing {}
}
