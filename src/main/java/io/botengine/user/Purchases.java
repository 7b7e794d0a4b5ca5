package io.botengine.user;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A user's Telegram Stars purchases: the offers {@code /buy} made (a pre-checkout must name one of
 * them), every payment with its refund, and whether the subscription still renews. Immutable; the
 * tokens themselves are booked on the {@link Account}.
 */
public record Purchases(List<Offer> offers, List<Purchase> payments) {

  /** Offers a pre-checkout may still name; older ones are refused as out of date. */
  static final int OFFERS_KEPT = 32;

  /** What was bought. */
  public enum Kind {
    PACK,
    SUBSCRIPTION
  }

  /**
   * One invoice the bot sent: {@code tokens} for {@code stars}. The payload Telegram returns with
   * the pre-checkout and the payment names all four, so a payment is credited as offered even if
   * the settings changed since.
   */
  public record Offer(String offerId, Kind kind, long tokens, long stars) {
    String payload() {
      return (kind == Kind.PACK ? "pack" : "sub") + ":" + tokens + ":" + stars + ":" + offerId;
    }

    /** The offer a payload names, or null when it is not one of ours. */
    static Offer parse(String payload) {
      String[] parts = payload == null ? new String[0] : payload.split(":", -1);
      if (parts.length != 4 || !parts[1].matches("[0-9]{1,9}") || !parts[2].matches("[0-9]{1,9}")
          || !parts[3].matches("[A-Za-z0-9-]{1,64}")) {
        return null;
      }
      Kind kind = switch (parts[0]) {
        case "pack" -> Kind.PACK;
        case "sub" -> Kind.SUBSCRIPTION;
        default -> null;
      };
      return kind == null
          ? null
          : new Offer(parts[3], kind, Long.parseLong(parts[1]), Long.parseLong(parts[2]));
    }
  }

  /**
   * One payment, by Telegram's {@code telegram_payment_charge_id}. {@code subscriptionUntil} is
   * set for subscription payments; {@code refundedAt} and {@code tokensTakenBack} once refunded.
   */
  public record Purchase(
      String chargeId,
      Kind kind,
      long stars,
      long tokens,
      Instant at,
      Instant subscriptionUntil,
      Instant refundedAt,
      long tokensTakenBack,
      boolean renewalCancelled) {
    public boolean refunded() {
      return refundedAt != null;
    }
  }

  public Purchases {
    offers = offers == null ? List.of() : List.copyOf(offers);
    payments = payments == null ? List.of() : List.copyOf(payments);
  }

  static Purchases empty() {
    return new Purchases(List.of(), List.of());
  }

  Offer offer(String offerId) {
    return offers.stream().filter(o -> o.offerId().equals(offerId)).findFirst().orElse(null);
  }

  Purchase payment(String chargeId) {
    return payments.stream().filter(p -> p.chargeId().equals(chargeId)).findFirst().orElse(null);
  }

  /** The latest subscription payment not refunded, or null. */
  Purchase subscription() {
    for (int i = payments.size() - 1; i >= 0; i--) {
      Purchase p = payments.get(i);
      if (p.kind() == Kind.SUBSCRIPTION && !p.refunded()) {
        return p;
      }
    }
    return null;
  }

  /** The last {@code n} payments, newest first. */
  List<Purchase> recent(int n) {
    List<Purchase> last = new ArrayList<>(payments.subList(Math.max(0, payments.size() - n),
        payments.size()));
    java.util.Collections.reverse(last);
    return List.copyOf(last);
  }

  Purchases offered(List<Offer> made) {
    List<Offer> kept = new ArrayList<>(offers);
    kept.addAll(made);
    if (kept.size() > OFFERS_KEPT) {
      kept = kept.subList(kept.size() - OFFERS_KEPT, kept.size());
    }
    return new Purchases(kept, payments);
  }

  Purchases paid(Purchase purchase) {
    List<Purchase> all = new ArrayList<>(payments);
    all.add(purchase);
    return new Purchases(offers, all);
  }

  Purchases refunded(String chargeId, long tokensTakenBack, Instant at) {
    return replace(chargeId, p -> new Purchase(p.chargeId(), p.kind(), p.stars(), p.tokens(),
        p.at(), p.subscriptionUntil(), at, tokensTakenBack, p.renewalCancelled()));
  }

  Purchases renewalCancelled(String chargeId) {
    return replace(chargeId, p -> new Purchase(p.chargeId(), p.kind(), p.stars(), p.tokens(),
        p.at(), p.subscriptionUntil(), p.refundedAt(), p.tokensTakenBack(), true));
  }

  private Purchases replace(String chargeId, java.util.function.UnaryOperator<Purchase> change) {
    List<Purchase> all = new ArrayList<>(payments.size());
    for (Purchase p : payments) {
      all.add(p.chargeId().equals(chargeId) ? change.apply(p) : p);
    }
    return new Purchases(offers, all);
  }
}
