package io.botengine.user;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A user's billing account: balance, tokens reserved for a running job, subscription, blocked flag,
 * and the ledger. Every credit and spend carries an idempotency key; a key applied once is never
 * applied again. Immutable: every change returns a new account.
 */
public record Account(
    long balance,
    long reserved,
    Instant subscriptionUntil,
    boolean blocked,
    List<LedgerEntry> ledger,
    Set<String> appliedKeys) {

  /** Ledger entries kept in the state (the journal keeps all of them). */
  static final int LEDGER_KEPT = 50;

  /** One booking: a positive amount for credits, negative for spends. */
  public record LedgerEntry(Instant at, long amount, String reason, String key, long balanceAfter) {}

  /** Why an account may not start a paid job. */
  public enum Denial {
    BLOCKED,
    SUBSCRIPTION_EXPIRED,
    INSUFFICIENT_TOKENS
  }

  public Account {
    ledger = List.copyOf(ledger);
    appliedKeys = Set.copyOf(appliedKeys);
  }

  static Account empty() {
    return new Account(0, 0, null, false, List.of(), Set.of());
  }

  /** Tokens that may still be reserved or spent. */
  public long available() {
    return balance - reserved;
  }

  public boolean hasApplied(String key) {
    return appliedKeys.contains(key);
  }

  /** The first reason, in the order blocked, subscription, balance, that denies a job of this cost. */
  public Denial denialFor(long cost, boolean requireSubscription, Instant now) {
    if (blocked) {
      return Denial.BLOCKED;
    }
    if (requireSubscription && (subscriptionUntil == null || !subscriptionUntil.isAfter(now))) {
      return Denial.SUBSCRIPTION_EXPIRED;
    }
    if (available() < cost) {
      return Denial.INSUFFICIENT_TOKENS;
    }
    return null;
  }

  Account book(long amount, String reason, String key, Instant at) {
    if (hasApplied(key)) {
      return this;
    }
    long after = balance + amount;
    List<LedgerEntry> entries = new ArrayList<>(ledger);
    entries.add(new LedgerEntry(at, amount, reason, key, after));
    if (entries.size() > LEDGER_KEPT) {
      entries = entries.subList(entries.size() - LEDGER_KEPT, entries.size());
    }
    Set<String> keys = new HashSet<>(appliedKeys);
    keys.add(key);
    return new Account(after, reserved, subscriptionUntil, blocked, entries, keys);
  }

  Account reserve(long amount) {
    return new Account(balance, reserved + amount, subscriptionUntil, blocked, ledger, appliedKeys);
  }

  Account release(long amount) {
    long left = Math.max(0, reserved - amount);
    return new Account(balance, left, subscriptionUntil, blocked, ledger, appliedKeys);
  }

  Account withSubscriptionUntil(Instant until) {
    return new Account(balance, reserved, until, blocked, ledger, appliedKeys);
  }

  Account withBlocked(boolean value) {
    return new Account(balance, reserved, subscriptionUntil, value, ledger, appliedKeys);
  }
}
