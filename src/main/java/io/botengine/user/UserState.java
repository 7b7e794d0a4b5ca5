package io.botengine.user;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.botengine.JsonSerializable;
import io.botengine.telegram.Outgoing;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the engine knows about one Telegram user: where the conversation stands (idle,
 * waiting for a file, or processing a job), the account, the update ids recently handled (to drop
 * re-deliveries), the language texts are chosen by, and whether the private chat can be reached
 * (false once Telegram said the bot is blocked or the chat is gone). Immutable; the event handlers
 * of {@link UserEntity} are one-line calls of the methods here.
 */
public record UserState(
    boolean registered,
    long chatId,
    String language,
    Conversation conversation,
    Account account,
    List<Long> recentUpdates,
    boolean unreachable,
    Purchases purchases,
    List<PendingReply> pendingReplies)
    implements JsonSerializable {

  /**
   * A message the entity decided on with an event (a job's result line, a payment's
   * confirmation) that Telegram has not confirmed yet: sent again after a crash. With a
   * {@code deleteMessageId} (0: none) it removes that message instead (an ended job's ⏳ line).
   */
  public record PendingReply(String id, long chatId, String text, long deleteMessageId) {
    /** What is sent to the chat. */
    public Outgoing message() {
      return deleteMessageId != 0 ? new Outgoing.Delete(deleteMessageId) : Outgoing.Text.plain(text);
    }
  }

  /** Update ids remembered by events written before the window was recorded in them. */
  static final int DEFAULT_DEDUP_WINDOW = 256;

  /** Where the conversation stands; only {@link Processing} has a job. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Idle.class, name = "idle"),
    @JsonSubTypes.Type(value = WaitingForFile.class, name = "waiting_for_file"),
    @JsonSubTypes.Type(value = Processing.class, name = "processing")
  })
  public sealed interface Conversation {
    /** The name the admin API shows. */
    String name();
  }

  /** Nothing going on: commands are answered, a document is not expected. */
  public record Idle() implements Conversation {
    @Override
    public String name() {
      return "idle";
    }
  }

  /** {@code /cv} passed the access check; the next valid document starts a job. */
  public record WaitingForFile() implements Conversation {
    @Override
    public String name() {
      return "waiting_for_file";
    }
  }

  /** A job runs; its cost is reserved on the account. */
  public record Processing(Job job) implements Conversation {
    @Override
    public String name() {
      return "processing";
    }
  }

  /**
   * The running job: our id, the Runner's task id once the upload was accepted, the reserved cost,
   * the highest output index already delivered to the user (0 before the first), the chat it was
   * started from, where its results go (0 in snapshots written before it was recorded), the file
   * as Telegram knows it, to upload it again after a crash before the Runner accepted it (null in
   * older snapshots), and the edit-mode preview message of the output being generated, if one was
   * sent ({@code previewIndex} and {@code previewMessageId}, 0 when none): a task resuming after a
   * crash finishes or deletes that message instead of sending another; the ⏳ status message
   * ({@code statusMessageId}, 0 when none), removed after a crash; and the SSE id a resumed stream
   * starts after ({@code lastEventId}, null: from the start).
   */
  public record Job(
      String jobId,
      String taskId,
      long cost,
      long lastDelivered,
      Instant startedAt,
      long chatId,
      String fileId,
      String fileName,
      long previewIndex,
      long previewMessageId,
      long statusMessageId,
      String lastEventId) {
    /** A job without a preview or status message nor a file to fetch again. */
    public Job(String jobId, String taskId, long cost, long lastDelivered, Instant startedAt,
        long chatId) {
      this(jobId, taskId, cost, lastDelivered, startedAt, chatId, null, null, 0, 0, 0, null);
    }

    Job accepted(String runnerTaskId) {
      return new Job(jobId, runnerTaskId, cost, lastDelivered, startedAt, chatId, fileId, fileName,
          previewIndex, previewMessageId, statusMessageId, lastEventId);
    }

    Job delivered(long index, String eventId) {
      boolean previewDone = index >= previewIndex;
      boolean newer = index > lastDelivered && eventId != null;
      return new Job(jobId, taskId, cost, Math.max(lastDelivered, index), startedAt, chatId, fileId,
          fileName, previewDone ? 0 : previewIndex, previewDone ? 0 : previewMessageId,
          statusMessageId, newer ? eventId : lastEventId);
    }

    Job statusShown(long messageId) {
      return new Job(jobId, taskId, cost, lastDelivered, startedAt, chatId, fileId, fileName,
          previewIndex, previewMessageId, messageId, lastEventId);
    }

    Job previewSent(long index, long messageId) {
      return new Job(jobId, taskId, cost, lastDelivered, startedAt, chatId, fileId, fileName, index,
          messageId, statusMessageId, lastEventId);
    }
  }

  public UserState {
    recentUpdates = List.copyOf(recentUpdates);
    purchases = purchases == null ? Purchases.empty() : purchases;
    pendingReplies = pendingReplies == null ? List.of() : List.copyOf(pendingReplies);
  }

  static UserState empty() {
    return new UserState(false, 0, null, new Idle(), Account.empty(), List.of(), false,
        Purchases.empty(), List.of());
  }

  /** The running job, or null. */
  public Job job() {
    return conversation instanceof Processing p ? p.job() : null;
  }

  boolean idle() {
    return conversation instanceof Idle;
  }

  boolean waitingForFile() {
    return conversation instanceof WaitingForFile;
  }

  boolean processing() {
    return conversation instanceof Processing;
  }

  /** True when this update id was handled already, or is older than the remembered window. */
  boolean seen(long updateId, int window) {
    if (recentUpdates.contains(updateId)) {
      return true;
    }
    return recentUpdates.size() >= window && updateId < recentUpdates.get(0);
  }

  boolean hasJob(String jobId) {
    Job job = job();
    return job != null && job.jobId().equals(jobId);
  }

  // ---------------------------------------------------------------- event handlers

  UserState registered(UserEntity.UserRegistered e) {
    return new UserState(true, e.chatId(), e.language(), conversation, account, recentUpdates,
        unreachable, purchases, pendingReplies);
  }

  UserState languageChanged(UserEntity.LanguageChanged e) {
    return new UserState(registered, chatId, e.language(), conversation, account, recentUpdates,
        unreachable, purchases, pendingReplies);
  }

  UserState updateAccepted(UserEntity.UpdateAccepted e) {
    int window = e.window() > 0 ? e.window() : DEFAULT_DEDUP_WINDOW;
    List<Long> ids = new ArrayList<>(recentUpdates);
    ids.add(e.updateId());
    ids.sort(null);
    if (ids.size() > window) {
      ids = ids.subList(ids.size() - window, ids.size());
    }
    return new UserState(registered, chatId, language, conversation, account, ids, unreachable, purchases, pendingReplies);
  }

  /** Telegram refused the private chat ({@code true}), or the user wrote again ({@code false}). */
  UserState withUnreachable(boolean value) {
    return new UserState(registered, chatId, language, conversation, account, recentUpdates, value,
        purchases, pendingReplies);
  }

  UserState fileRequested() {
    return withConversation(new WaitingForFile());
  }

  UserState fileRequestClosed() {
    return withConversation(new Idle());
  }

  UserState credited(UserEntity.TokensCredited e) {
    return withAccount(account.book(e.amount(), e.reason(), e.idempotencyKey(), e.at()));
  }

  UserState subscriptionSet(UserEntity.SubscriptionSet e) {
    return withAccount(account.withSubscriptionUntil(e.until()));
  }

  UserState blocked(boolean value) {
    return withAccount(account.withBlocked(value));
  }

  UserState jobStarted(UserEntity.JobStarted e) {
    return new UserState(registered, chatId, language,
        new Processing(new Job(e.jobId(), null, e.cost(), 0, e.at(), e.chatId(), e.fileId(),
            e.fileName(), 0, 0, 0, null)),
        account.reserve(e.cost()), recentUpdates, unreachable, purchases, pendingReplies);
  }

  UserState jobAccepted(UserEntity.JobAccepted e) {
    return hasJob(e.jobId()) ? withConversation(new Processing(job().accepted(e.taskId()))) : this;
  }

  UserState outputDelivered(UserEntity.OutputDelivered e) {
    return hasJob(e.jobId())
        ? withConversation(new Processing(job().delivered(e.index(), e.eventId())))
        : this;
  }

  UserState statusMessageShown(UserEntity.StatusMessageShown e) {
    return hasJob(e.jobId()) ? withConversation(new Processing(job().statusShown(e.messageId())))
        : this;
  }

  UserState previewMessageSent(UserEntity.PreviewMessageSent e) {
    return hasJob(e.jobId()) && e.index() > job().lastDelivered()
        ? withConversation(new Processing(job().previewSent(e.index(), e.messageId())))
        : this;
  }

  UserState jobSucceeded(UserEntity.JobSucceeded e) {
    if (!hasJob(e.jobId())) {
      return this;
    }
    Account captured = account.release(job().cost())
        .book(-e.charged(), "cv_analysis", e.idempotencyKey(), e.at());
    return new UserState(registered, chatId, language, new Idle(), captured, recentUpdates,
        unreachable, purchases, pendingReplies);
  }

  UserState jobEnded(UserEntity.JobEnded e) {
    if (!hasJob(e.jobId())) {
      return this;
    }
    return new UserState(registered, chatId, language, new Idle(), account.release(job().cost()),
        recentUpdates, unreachable, purchases, pendingReplies);
  }

  UserState offersMade(UserEntity.OffersMade e) {
    return withPurchases(purchases.offered(e.offers()));
  }

  /** Tokens booked once per charge id; a subscription runs until the later of both ends. */
  UserState paymentReceived(UserEntity.PaymentReceived e) {
    Account credited = account.book(e.tokens(),
        e.kind() == Purchases.Kind.PACK ? "stars_pack" : "stars_subscription",
        "stars:" + e.chargeId(), e.at());
    if (e.subscriptionUntil() != null && (credited.subscriptionUntil() == null
        || e.subscriptionUntil().isAfter(credited.subscriptionUntil()))) {
      credited = credited.withSubscriptionUntil(e.subscriptionUntil());
    }
    return withAccount(credited).withPurchases(purchases.paid(new Purchases.Purchase(
        e.chargeId(), e.kind(), e.stars(), e.tokens(), e.at(), e.subscriptionUntil(), null, 0,
        false)));
  }

  UserState paymentRefunded(UserEntity.PaymentRefunded e) {
    return withAccount(account.book(-e.tokensTaken(), "stars_refund", "refund:" + e.chargeId(),
            e.at()))
        .withPurchases(purchases.refunded(e.chargeId(), e.tokensTaken(), e.at()));
  }

  UserState renewalCancelled(UserEntity.SubscriptionRenewalCancelled e) {
    return withPurchases(purchases.renewalCancelled(e.chargeId()));
  }

  UserState replyQueued(UserEntity.ReplyQueued e) {
    List<PendingReply> all = new ArrayList<>(pendingReplies);
    all.add(new PendingReply(e.id(), e.chatId(), e.text(), e.deleteMessageId()));
    return withPendingReplies(all);
  }

  UserState replyConfirmed(UserEntity.ReplyConfirmed e) {
    List<PendingReply> left = new ArrayList<>(pendingReplies);
    left.removeIf(r -> r.id().equals(e.id()));
    return withPendingReplies(left);
  }

  private UserState withPendingReplies(List<PendingReply> next) {
    return new UserState(registered, chatId, language, conversation, account, recentUpdates,
        unreachable, purchases, next);
  }

  private UserState withPurchases(Purchases next) {
    return new UserState(registered, chatId, language, conversation, account, recentUpdates,
        unreachable, next, pendingReplies);
  }

  private UserState withConversation(Conversation next) {
    return new UserState(registered, chatId, language, next, account, recentUpdates, unreachable, purchases, pendingReplies);
  }

  private UserState withAccount(Account next) {
    return new UserState(registered, chatId, language, conversation, next, recentUpdates,
        unreachable, purchases, pendingReplies);
  }
}
