package io.botengine.telegram;

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
    Document document)
    implements JsonSerializable {

  /** A document as Telegram describes it before download; {@code size} is what Telegram reports. */
  public record Document(String fileId, String fileName, String mimeType, long size) {}

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
