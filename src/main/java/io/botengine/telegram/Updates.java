package io.botengine.telegram;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.message.Message;

/**
 * Turns telegrambots' {@link Update} into the engine's {@link Inbound}; other updates are skipped,
 * and so are those from a user id that is not positive (the admin API refuses such ids too): they
 * are acknowledged and dropped with one log line.
 */
public final class Updates {
  private static final Logger log = LoggerFactory.getLogger(Updates.class);

  private Updates() {}

  /** The user's message in this update, or empty for updates the engine does not handle. */
  public static Optional<Inbound> toInbound(Update update) {
    Message m = update.getMessage();
    if (m == null || m.getFrom() == null || m.getFrom().getIsBot()) {
      return Optional.empty();
    }
    if (m.getFrom().getId() == null || m.getFrom().getId() <= 0) {
      log.warn("update {} dropped: user id {} is not positive", update.getUpdateId(),
          m.getFrom().getId());
      return Optional.empty();
    }
    Inbound.Document document = null;
    if (m.getDocument() != null) {
      var d = m.getDocument();
      document =
          new Inbound.Document(
              d.getFileId(),
              d.getFileName(),
              d.getMimeType(),
              d.getFileSize() == null ? 0 : d.getFileSize());
    }
    return Optional.of(
        new Inbound(
            update.getUpdateId(),
            m.getFrom().getId(),
            m.getChatId(),
            m.getFrom().getLanguageCode(),
            m.getText(),
            document));
  }
}
