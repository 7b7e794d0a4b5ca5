package io.botengine;

import io.botengine.telegram.Inbound;

/** The {@code kind} label of {@code botengine_updates_total}: a small, fixed set of values. */
final class UpdateKind {
  private UpdateKind() {}

  static String of(Inbound update) {
    if (update.payment() instanceof Inbound.PreCheckout) {
      return "pre_checkout";
    }
    if (update.payment() instanceof Inbound.Refunded) {
      return "refund";
    }
    if (update.payment() != null) {
      return "payment";
    }
    if (update.document() != null) {
      return "document";
    }
    if (!update.command().isEmpty()) {
      return "command";
    }
    return update.text() != null ? "text" : "other";
  }
}
