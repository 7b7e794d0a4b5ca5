package io.botengine.user;

import io.botengine.job.JobOutcome;
import io.botengine.job.RunnerFailure;
import io.botengine.telegram.Outgoing;
import io.botengine.telegram.Texts;
import java.time.Instant;
import java.util.List;

/**
 * What the bot says to one user, in the user's language: the user entity decides what to say,
 * this class how. Rendering is total: no state of the account makes it throw.
 */
final class Replies {
  private final Texts texts;
  private final long cvCost;

  private Replies(Texts texts, long cvCost) {
    this.texts = texts;
    this.cvCost = cvCost;
  }

  static Replies of(UserState state, long cvCost) {
    return new Replies(Texts.of(state.language()), cvCost);
  }

  /** A fixed text of the texts files. */
  String text(String key) {
    return texts.get(key);
  }

  String help() {
    return texts.get("help", texts.tokens(cvCost));
  }

  Outgoing prompt() {
    return new Outgoing.Text(promptText(), "HTML");
  }

  String pleaseSendFile() {
    return texts.get("file.please-send", promptText());
  }

  private String promptText() {
    return texts.get("cv.prompt", texts.tokens(cvCost));
  }

  String denial(Account.Denial denial) {
    return switch (denial) {
      case BLOCKED -> texts.get("cv.blocked");
      case SUBSCRIPTION_EXPIRED -> texts.get("cv.subscription-expired");
      case INSUFFICIENT_TOKENS -> texts.get("cv.insufficient-tokens");
    };
  }

  String balance(Account account, Instant now) {
    Instant until = account.subscriptionUntil();
    String subscription = until == null ? texts.get("subscription.none")
        : until.isAfter(now) ? texts.get("subscription.active", dateTime(until))
        : texts.get("subscription.expired", dateTime(until));
    return account.reserved() > 0
        ? texts.get("balance.reserved", texts.tokens(account.balance()), subscription,
            texts.tokens(account.reserved()))
        : texts.get("balance", texts.tokens(account.balance()), subscription);
  }

  String queued(int position) {
    return texts.get("job.queued", position);
  }

  String succeeded(long charged) {
    return charged > 0
        ? texts.get("job.succeeded", texts.tokens(charged))
        : texts.get("job.succeeded-free");
  }

  String ended(JobOutcome outcome, String detail) {
    return switch (outcome) {
      case FAILED -> texts.get("job.failed", detail != null ? detail : texts.get("job.failed-unknown"));
      case UPLOAD_FAILED -> runnerFailure(detail, "job.upload-failed");
      case TIMED_OUT -> runnerFailure(detail, "job.timeout");
      case CANCELLED -> texts.get("job.cancelled");
      case UPLOAD_LOST -> texts.get("job.lost-upload");
      case INCOMPLETE -> texts.get("job.incomplete");
    };
  }

  /**
   * A Runner failure by its cause (seed 004's table), never the raw error: the Runner cannot be
   * reached, refused the engine's key, lost the task, or did not answer in time; anything else
   * says {@code otherwise}.
   */
  private String runnerFailure(String detail, String otherwise) {
    return RunnerFailure.named(detail)
        .filter(f -> f != RunnerFailure.SERVER_ERROR && f != RunnerFailure.OTHER)
        .map(f -> texts.get("job.runner." + f.label()))
        .orElseGet(() -> texts.get(otherwise));
  }

  // ---------------------------------------------------------------- Stars payments

  /** The invoice of a token pack. */
  Outgoing invoice(Purchases.Offer offer) {
    String tokens = texts.tokens(offer.tokens());
    return new Outgoing.Invoice(texts.get("buy.pack.title", tokens),
        texts.get("buy.pack.description", tokens), offer.payload(), offer.stars());
  }

  /** The monthly subscription: a message with a button that opens its invoice link. */
  Outgoing subscriptionOffer(Purchases.Offer offer) {
    String grant = offer.tokens() > 0
        ? texts.get("buy.subscription.tokens", texts.tokens(offer.tokens())) : "";
    return new Outgoing.SubscriptionOffer(
        texts.get("buy.subscription.text", offer.stars(), grant),
        texts.get("buy.subscription.button", offer.stars()),
        texts.get("buy.subscription.title"),
        texts.get("buy.subscription.description", grant),
        offer.payload(),
        offer.stars());
  }

  String paid(long tokens, long balance) {
    return texts.get("pay.received", texts.tokens(tokens), texts.tokens(balance));
  }

  String subscribed(Instant until, long tokens, long balance) {
    String grant = tokens > 0 ? texts.get("pay.subscribed.tokens", texts.tokens(tokens)) : "";
    return texts.get("pay.subscribed", dateTime(until), grant, texts.tokens(balance));
  }

  String unrecognisedPayment(long stars) {
    return texts.get("pay.unrecognised", stars);
  }

  String refunded(long stars, long tokensTaken, long balance) {
    return texts.get("pay.refunded", stars, texts.tokens(tokensTaken), texts.tokens(balance));
  }

  /** /paysupport: how to get help, and the user's recent payments. */
  String paySupport(List<Purchases.Purchase> recent, String contact, boolean forwarded) {
    String how = forwarded ? texts.get("paysupport.forwarded")
        : contact.isEmpty() ? texts.get("paysupport.contact") : contact;
    return texts.get("paysupport", how, payments(recent));
  }

  /** What the support chat is told of a /paysupport request. */
  String paySupportForward(String userId, List<Purchases.Purchase> recent) {
    return texts.get("paysupport.forward", userId, payments(recent));
  }

  private String payments(List<Purchases.Purchase> recent) {
    if (recent.isEmpty()) {
      return texts.get("paysupport.none");
    }
    StringBuilder lines = new StringBuilder();
    for (Purchases.Purchase p : recent) {
      if (lines.length() > 0) {
        lines.append('\n');
      }
      lines.append(texts.get(p.refunded() ? "paysupport.line.refunded" : "paysupport.line",
          dateTime(p.at()), p.stars(), texts.tokens(p.tokens()), p.chargeId()));
    }
    return lines.toString();
  }

  private static String dateTime(Instant instant) {
    return Texts.date(instant);
  }
}
