package io.botengine.telegram;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.api.objects.payments.PreCheckoutQuery;
import org.telegram.telegrambots.meta.api.objects.payments.RefundedPayment;
import org.telegram.telegrambots.meta.api.objects.payments.SuccessfulPayment;

/**
 * Turns telegrambots' {@link Update} into the engine's {@link Inbound}: a user's message (text,
 * document, Stars payment or refund) or a pre-checkout query; other updates are skipped, and so
 * are those from a user id that is not positive (the admin API refuses such ids too): they are
 * acknowledged and dropped with one log line.
 */
public final class Updates {
  private static final Logger log = LoggerFactory.getLogger(Updates.class);

  private Updates() {}

  /** The user's message in this update, or empty for updates the engine does not handle. */
  public static Optional<Inbound> toInbound(Update update) {
    PreCheckoutQuery q = update.getPreCheckoutQuery();
    if (q != null && q.getFrom() != null && positive(update, q.getFrom().getId())) {
      long user = q.getFrom().getId();
      return Optional.of(new Inbound(update.getUpdateId(), user, user,
          q.getFrom().getLanguageCode(), null, null, new Inbound.PreCheckout(q.getId(),
              q.getCurrency(), amount(q.getTotalAmount()), q.getInvoicePayload())));
    }
    Message m = update.getMessage();
    if (m == null || m.getFrom() == null || m.getFrom().getIsBot()) {
      return Optional.empty();
    }
    if (!positive(update, m.getFrom().getId())) {
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
            document,
            payment(m)));
  }

  private static Inbound.Payment payment(Message m) {
    SuccessfulPayment p = m.getSuccessfulPayment();
    if (p != null) {
      return new Inbound.Paid(p.getCurrency(), amount(p.getTotalAmount()), p.getInvoicePayload(),
          p.getTelegramPaymentChargeId(),
          p.getSubscriptionExpirationDate() == null ? 0 : p.getSubscriptionExpirationDate(),
          Boolean.TRUE.equals(p.getIsRecurring()) && !Boolean.TRUE.equals(p.getIsFirstRecurring()));
    }
    RefundedPayment r = m.getRefundedPayment();
    if (r != null) {
      return new Inbound.Refunded(r.getCurrency(), amount(r.getTotalAmount()),
          r.getInvoicePayload(), r.getTelegramPaymentChargeId());
    }
    return null;
  }

  private static boolean positive(Update update, Long userId) {
    if (userId == null || userId <= 0) {
      log.warn("update {} dropped: user id {} is not positive", update.getUpdateId(), userId);
      return false;
    }
    return true;
  }

  private static long amount(Integer value) {
    return value == null ? 0 : value;
  }
}
