package io.botengine.testing;

import akka.actor.typed.ActorRef;
import io.botengine.telegram.Outgoing;
import io.botengine.telegram.TelegramGateway;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link TelegramGateway} below the actors under test: every send is reported to a probe and
 * succeeds; downloads serve the files registered with {@link #file}.
 */
public final class FakeTelegram implements TelegramGateway {
  /** One message the bot sent. */
  public record Sent(long chatId, Outgoing message) {
    public String text() {
      return message instanceof Outgoing.Text t ? t.text() : null;
    }
  }

  /** A download that was asked for. */
  public record Download(String fileId) {}

  private final ActorRef<Sent> sent;
  private final ActorRef<Download> downloads;
  private final Map<String, byte[]> files = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final Set<Long> refused = ConcurrentHashMap.newKeySet();
  private final Set<Long> held = ConcurrentHashMap.newKeySet();
  private final AtomicInteger heldCalls = new AtomicInteger();

  public FakeTelegram(ActorRef<Sent> sent, ActorRef<Download> downloads) {
    this.sent = sent;
    this.downloads = downloads;
  }

  /** Serves {@code content} for {@code fileId}; null: Telegram no longer has it. */
  public void file(String fileId, byte[] content) {
    if (content == null) {
      files.remove(fileId);
    } else {
      files.put(fileId, content);
    }
  }

  /** A payment call the bot made: answerPreCheckoutQuery, refundStarPayment, ... */
  public record PaymentCall(String method, String id, String error) {}

  /** The payment calls made so far, in order. */
  public final java.util.concurrent.LinkedBlockingQueue<PaymentCall> paymentCalls =
      new java.util.concurrent.LinkedBlockingQueue<>();

  private final Set<String> refunded = ConcurrentHashMap.newKeySet();

  /** The next payment call, waiting up to 3 s. */
  public PaymentCall nextPaymentCall() {
    try {
      PaymentCall call = paymentCalls.poll(3, java.util.concurrent.TimeUnit.SECONDS);
      if (call == null) {
        throw new AssertionError("no payment call");
      }
      return call;
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public CompletionStage<Boolean> answerPreCheckout(String queryId, String errorMessage) {
    paymentCalls.add(new PaymentCall("answerPreCheckoutQuery", queryId, errorMessage));
    return CompletableFuture.completedFuture(true);
  }

  /** As Telegram: a charge refunded once is refused with CHARGE_ALREADY_REFUNDED. */
  @Override
  public CompletionStage<Boolean> refundStarPayment(long userId, String chargeId) {
    paymentCalls.add(new PaymentCall("refundStarPayment", chargeId, null));
    return refunded.add(chargeId)
        ? CompletableFuture.completedFuture(true)
        : CompletableFuture.failedFuture(
            new Failure(400, "Bad Request: CHARGE_ALREADY_REFUNDED", null));
  }

  /** Marks a charge as refunded outside the bot (the user disputed it, say). */
  public void refundedElsewhere(String chargeId) {
    refunded.add(chargeId);
  }

  @Override
  public CompletionStage<Boolean> cancelStarSubscription(long userId, String chargeId) {
    paymentCalls.add(new PaymentCall("editUserStarSubscription", chargeId, null));
    return CompletableFuture.completedFuture(true);
  }

  /** From now on every send to {@code chatId} fails as Telegram's 403 "bot was kicked". */
  public void refuse(long chatId) {
    refused.add(chatId);
  }

  /** Sends to {@code chatId} go through again (the user unblocked the bot). */
  public void accept(long chatId) {
    refused.remove(chatId);
    held.remove(chatId);
  }

  /** How many sends were held so far (they never complete, and are not reported as sent). */
  public int heldCalls() {
    return heldCalls.get();
  }

  /** From now on sends to {@code chatId} never complete (Telegram has not answered yet). */
  public void hold(long chatId) {
    held.add(chatId);
  }

  @Override
  public CompletionStage<Long> send(long chatId, Outgoing message) {
    if (refused.contains(chatId)) {
      return CompletableFuture.failedFuture(
          new Failure(403, "Forbidden: bot was kicked from the group chat", null));
    }
    if (held.contains(chatId)) {
      heldCalls.incrementAndGet();
      return new CompletableFuture<>();
    }
    sent.tell(new Sent(chatId, message));
    return CompletableFuture.completedFuture(ids.incrementAndGet());
  }

  private volatile CompletableFuture<Void> downloadsHeld = CompletableFuture.completedFuture(null);

  /** From now on downloads are answered only after {@link #releaseDownloads}. */
  public void holdDownloads() {
    downloadsHeld = new CompletableFuture<>();
  }

  /** Answers the downloads held so far, and the later ones at once. */
  public void releaseDownloads() {
    downloadsHeld.complete(null);
  }

  @Override
  public CompletionStage<byte[]> download(String fileId, long maxBytes) {
    downloads.tell(new Download(fileId));
    byte[] content = files.get(fileId);
    CompletableFuture<byte[]> answer = content == null
        ? CompletableFuture.failedFuture(new Failure(400, "Bad Request: file not found", null))
        : CompletableFuture.completedFuture(content);
    return downloadsHeld.thenCompose(released -> answer);
  }
}
