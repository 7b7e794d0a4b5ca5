package io.botengine.user;

import static io.botengine.LogFields.JOB_ID;
import static io.botengine.LogFields.TASK_ID;
import static net.logstash.logback.argument.StructuredArguments.value;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.BackoffSupervisorStrategy;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.pattern.StatusReply;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventHandlerBuilder;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import io.botengine.EngineSettings;
import io.botengine.Failures;
import io.botengine.LogSafe;
import io.botengine.JsonSerializable;
import io.botengine.WebEvents;
import io.botengine.job.JobOutcome;
import io.botengine.job.JobLauncher;
import io.botengine.job.TaskActor;
import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Inbound;
import io.botengine.telegram.Outgoing;
import io.botengine.telegram.TelegramGateway;
import io.botengine.telegram.Texts;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * One Telegram user, event sourced and run as a Cluster Sharding entity (entity id = user id). It
 * owns the conversation ({@code idle}, {@code waiting_for_file}, {@code processing}), the running
 * job and the billing account, and is the only place either changes. Updates are accepted once (by
 * {@code update_id}) and acknowledged only after their events are persisted. Its children are the
 * chat outbox and the job's task actor; after a restart it resumes a running job from the next
 * undelivered output. Passivated by sharding when idle; a running job keeps it alive.
 */
public final class UserEntity
    extends EventSourcedBehaviorWithEnforcedReplies<UserEntity.Command, UserEntity.Event, UserState> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "User");

  static final String WELCOME_KEY = "welcome";

  /** Telegram Stars, the only currency the bot takes. */
  static final String STARS = "XTR";

  /**
   * This class's logger, for lines logged from a Bot API call's callback, outside the actor, and
   * for the level checked before a per-output DEBUG line:
   * {@code getLog()} sets the actor's MDC, and the line's arguments are built, even when DEBUG is
   * off.
   */
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UserEntity.class);

  /** A journal that fails a write or a replay restarts the user, with backoff, instead of stopping it. */
  static final BackoffSupervisorStrategy JOURNAL_FAILURE =
      SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2);

  // ---------------------------------------------------------------- protocol

  /** Everything a user actor is told. */
  public sealed interface Command extends JsonSerializable {}

  /** A Telegram update from this user; acknowledged once accepted (persisted) or known. */
  public record HandleUpdate(Inbound update, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Admin: the account and conversation as they stand. */
  public record GetSummary(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /** Admin: credit tokens once per idempotency key. */
  public record Credit(
      long amount, String reason, String idempotencyKey, ActorRef<StatusReply<Summary>> replyTo)
      implements Command {}

  /** Admin: the subscription runs until this instant. */
  public record SetSubscription(Instant until, ActorRef<StatusReply<Summary>> replyTo)
      implements Command {}

  /** Admin: block or unblock the account. */
  public record SetBlocked(boolean blocked, ActorRef<StatusReply<Summary>> replyTo)
      implements Command {}

  /**
   * Admin: refund one Stars payment through Telegram, then take its tokens back (never below what
   * a running job has reserved). Refused when unknown (not found) or refunded already (conflict).
   */
  public record RefundPayment(String chargeId, ActorRef<StatusReply<Summary>> replyTo)
      implements Command {}

  /** Admin: the running job, with the node this actor runs on; refused when none runs. */
  public record GetRunningJob(ActorRef<StatusReply<AdminJobs.RunningJob>> replyTo)
      implements Command {}

  /** Admin: cancel the running job as /cancel would (uncharged, the user told). */
  public record CancelJob(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /** Admin: the Stars subscription is not renewed again; it stays valid until its period ends. */
  public record CancelSubscription(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  private record RefundAnswered(
      String chargeId, int errorCode, String error, ActorRef<StatusReply<Summary>> replyTo)
      implements Command {}

  private record CancelAnswered(
      String chargeId, String error, ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /** Task: the Runner accepted the upload; answered once that is persisted. */
  public record TaskAccepted(
      String jobId, String taskId, int queuePosition, ActorRef<Done> replyTo) implements Command {}

  /**
   * Task: output {@code index} reached Telegram; answered once that is persisted. {@code eventId}
   * (nullable): the SSE id a resumed stream may start after.
   */
  public record RecordDelivery(String jobId, long index, String eventId, ActorRef<Done> replyTo)
      implements Command {
    public RecordDelivery(String jobId, long index, ActorRef<Done> replyTo) {
      this(jobId, index, null, replyTo);
    }
  }

  /** Task: an edit-mode preview message of output {@code index} was sent as {@code messageId}. */
  public record RecordPreview(String jobId, long index, long messageId) implements Command {}

  /** Task: the job's status message was sent as {@code messageId}. */
  public record RecordStatus(String jobId, long messageId) implements Command {}

  /** Task: the Runner reported success. */
  public record TaskSucceeded(String jobId) implements Command {}

  /** Task: the job ended without success; {@code detail} is the Runner's error text if any. */
  public record TaskFailed(String jobId, JobOutcome outcome, String detail) implements Command {}

  /**
   * Sharding's stop message (passivation, hand-over, shutdown): the output in flight is recorded
   * and the chat's queued messages are sent first, so a graceful stop neither loses nor repeats
   * one.
   */
  public enum Stop implements Command {
    INSTANCE
  }

  private enum ReadyToStop implements Command {
    INSTANCE
  }

  private enum OutboxDrained implements Command {
    INSTANCE
  }

  /** Publishes {@code nonce} on the user's web event topic: a web feed's handshake. */
  public record Echo(String nonce) implements Command {}

  /** Keeps a user with a running job awake; answered with whether a job still runs. */
  public record Wake(ActorRef<Boolean> replyTo) implements Command {}

  private record FileFetched(Inbound update, byte[] content, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  private record FileNotFetched(
      Inbound update, boolean tooLarge, String reason, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  private record UploadLost(String jobId) implements Command {}

  private record FileFetchedAgain(String jobId, String fileName, byte[] content)
      implements Command {}

  private record ReplySent(String id, boolean confirmed) implements Command {}

  private record ChatUnreachable(ChatOutbox.Unreachable report) implements Command {}

  /** What the admin API shows of a user. */
  public record Summary(
      String userId,
      boolean known,
      String state,
      long balance,
      long reserved,
      Instant subscriptionUntil,
      boolean blocked,
      boolean unreachable,
      String jobId,
      String taskId,
      long lastDeliveredIndex,
      List<Account.LedgerEntry> ledger,
      List<Purchases.Purchase> payments)
      implements JsonSerializable {}

  // ---------------------------------------------------------------- events

  /** Everything that ever happened to a user, in the journal. */
  public sealed interface Event extends JsonSerializable {}

  /**
   * First contact. {@code chatId} is where the user first wrote; replies go to the chat each update
   * comes from, never here.
   */
  public record UserRegistered(long chatId, String language, Instant at) implements Event {}

  /** The user's Telegram language changed; texts follow it. */
  public record LanguageChanged(String language) implements Event {}

  /** Telegram refuses to deliver to the chat (bot blocked, chat gone): nothing is sent to it. */
  public record ChatBecameUnreachable(int code, String reason, Instant at) implements Event {}

  /** The user wrote again after the chat was unreachable. */
  public record ChatBecameReachable(Instant at) implements Event {}

  /**
   * An update was handled; later deliveries of it are dropped. {@code window}: how many update ids
   * the user keeps (0 in events written before it was recorded: the default of that time).
   */
  public record UpdateAccepted(long updateId, int window) implements Event {}

  /** /cv passed the access check: the bot waits for the file. */
  public record FileRequested(Instant at) implements Event {}

  /** Waiting for a file ended without a job (/cancel, or access lost). */
  public record FileRequestClosed(Instant at) implements Event {}

  /** Tokens added under an idempotency key. */
  public record TokensCredited(long amount, String reason, String idempotencyKey, Instant at)
      implements Event {}

  /** The subscription now runs until {@code until}. */
  public record SubscriptionSet(Instant until) implements Event {}

  /** The account was blocked. */
  public record AccountBlocked(Instant at) implements Event {}

  /** The account was unblocked. */
  public record AccountUnblocked(Instant at) implements Event {}

  /**
   * A valid file started a job; its cost is reserved. Its results go to {@code chatId}, the private
   * chat it was started from (0 in events written before it was recorded: the user's private chat).
   * The file's bytes are not in the journal: {@code fileId} is Telegram's, to fetch it again if the
   * engine dies before the Runner accepted the upload (null in older events).
   */
  public record JobStarted(
      String jobId, long cost, String fileName, Instant at, long chatId, String fileId)
      implements Event {}

  /** The Runner accepted the upload under {@code taskId}. */
  public record JobAccepted(String jobId, String taskId, int queuePosition) implements Event {}

  /**
   * Output {@code index} of the job reached the user; a resumed stream starts after
   * {@code eventId} when it is set (null in older events, or when a later output was waiting).
   */
  public record OutputDelivered(String jobId, long index, String eventId) implements Event {}

  /**
   * An edit-mode preview of output {@code index} was sent as message {@code messageId}: a task
   * resuming the job finishes or deletes it.
   */
  public record PreviewMessageSent(String jobId, long index, long messageId) implements Event {}

  /** The job's ⏳ status message is {@code messageId}: removed after a crash. */
  public record StatusMessageShown(String jobId, long messageId) implements Event {}

  /** The job succeeded: the reservation is captured as a spend under {@code idempotencyKey}. */
  public record JobSucceeded(
      String jobId, String taskId, long charged, String idempotencyKey, Instant at)
      implements Event {}

  /** The job ended without success: the reservation is released. */
  public record JobEnded(String jobId, JobOutcome outcome, Instant at) implements Event {}

  /** /buy sent these invoices; a pre-checkout must name one of them. */
  public record OffersMade(List<Purchases.Offer> offers, Instant at) implements Event {}

  /**
   * A Stars payment, credited once by its {@code chargeId}; {@code tokens} as its invoice named
   * them. A subscription payment runs the subscription until {@code subscriptionUntil}.
   */
  public record PaymentReceived(
      String chargeId,
      Purchases.Kind kind,
      long stars,
      long tokens,
      Instant subscriptionUntil,
      Instant at)
      implements Event {}

  /** A payment was refunded ({@code by} "admin" or "telegram"); {@code tokensTaken} went back. */
  public record PaymentRefunded(String chargeId, long tokensTaken, String by, Instant at)
      implements Event {}

  /** The Stars subscription paid by {@code chargeId} will not renew. */
  public record SubscriptionRenewalCancelled(String chargeId, Instant at) implements Event {}

  /**
   * A message decided on together with the events before it (a job's result, a payment's
   * confirmation): sent again after a crash until Telegram confirmed it. With a
   * {@code deleteMessageId} (0 in events written before it existed: none), the removal of that
   * message instead of a text: an ended job's ⏳ status line.
   */
  public record ReplyQueued(String id, long chatId, String text, long deleteMessageId)
      implements Event {}

  /** Telegram accepted the queued reply {@code id} (or the chat cannot be reached). */
  public record ReplyConfirmed(String id) implements Event {}

  // ---------------------------------------------------------------- wiring

  /** What a user actor needs from the rest of the engine; tests pass their own. */
  public record Deps(
      EngineSettings.Billing billing,
      EngineSettings.Payments payments,
      EngineSettings.UserSettings user,
      long maxFileSize,
      TelegramGateway telegram,
      ChatOutbox.Deps outbox,
      JobLauncher jobs,
      Clock clock) {}

  /** Registers the entity with Cluster Sharding on this node. */
  public static void init(ActorSystem<?> system, Deps deps) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY,
                    ctx -> UserLogFields.around(ctx.getEntityId(), create(ctx.getEntityId(), deps)))
                .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(String userId, Deps deps) {
    return Behaviors.setup(ctx -> new UserEntity(ctx, userId, deps));
  }

  private final ActorContext<Command> context;
  private final String userId;
  private final Deps deps;
  private final EventHandler<UserState, Event> events;
  private final Map<Long, ActorRef<ChatOutbox.Command>> outboxes = new HashMap<>();
  private final ActorRef<TaskActor.Report> taskReports;
  private int outboxesDraining;
  private boolean stoppingAfterReplies;
  private final Set<String> refundsInFlight = new HashSet<>();
  private final io.botengine.Metrics metrics;

  private UserEntity(ActorContext<Command> context, String userId, Deps deps) {
    super(PersistenceId.of(ENTITY_KEY.name(), userId), JOURNAL_FAILURE);
    this.context = context;
    this.userId = userId;
    this.deps = deps;
    this.metrics = io.botengine.Metrics.get(context.getSystem());
    this.events = EVENTS;
    this.taskReports = context.messageAdapter(TaskActor.Report.class, UserEntity::fromTask);
  }

  /** The task actor's reports, as this entity's commands. */
  private static Command fromTask(TaskActor.Report report) {
    if (report instanceof TaskActor.Accepted r) {
      return new TaskAccepted(r.jobId(), r.taskId(), r.queuePosition(), r.replyTo());
    } else if (report instanceof TaskActor.Delivered r) {
      return new RecordDelivery(r.jobId(), r.index(), r.eventId(), r.replyTo());
    } else if (report instanceof TaskActor.Succeeded r) {
      return new TaskSucceeded(r.jobId());
    } else if (report instanceof TaskActor.PreviewShown r) {
      return new RecordPreview(r.jobId(), r.index(), r.messageId());
    } else if (report instanceof TaskActor.StatusShown r) {
      return new RecordStatus(r.jobId(), r.messageId());
    }
    TaskActor.Failed r = (TaskActor.Failed) report;
    return new TaskFailed(r.jobId(), r.outcome(), r.detail());
  }

  @Override
  public UserState emptyState() {
    return UserState.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(deps.user().snapshotEvery(), 2);
  }


  @Override
  public SignalHandler<UserState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::onRecovered).build();
  }

  /**
   * Replies Telegram had not confirmed are sent again; a job still running is resumed from the
   * next undelivered output.
   */
  private void onRecovered(UserState state) {
    state.pendingReplies().forEach(reply -> sendDurably(reply, state.language()));
    UserState.Job job = state.job();
    if (job == null) {
      return;
    }
    if (job.statusMessageId() != 0) {
      outbox(chatOf(job), state.language()).tell(
          ChatOutbox.Send.of(new Outgoing.Delete(job.statusMessageId())));
    }
    if (job.taskId() == null) {
      uploadAgain(job);
      return;
    }
    context.getLog().info(
        "user {} job {} task {}: resuming after index {}",
        userId, value(JOB_ID, job.jobId()), value(TASK_ID, job.taskId()), job.lastDelivered());
    deps.jobs().start(context, new JobLauncher.JobSpec(Long.parseLong(userId), chatOf(job),
        job.jobId(), job.taskId(), null, null, job.lastDelivered(),
        outbox(chatOf(job), state.language()), job.previewIndex(), job.previewMessageId(),
        job.lastEventId()),
        taskReports);
  }

  // ---------------------------------------------------------------- commands, state by state

  @Override
  public CommandHandlerWithReply<Command, Event, UserState> commandHandler() {
    return COMMANDS.of(this);
  }

  /** The command handler of all user entities, built once (see {@link SharedCommandHandler}). */
  private static final SharedCommandHandler<UserEntity, Command, Event, UserState> COMMANDS =
      commands();

  private static SharedCommandHandler<UserEntity, Command, Event, UserState> commands() {
    SharedCommandHandler<UserEntity, Command, Event, UserState> b = new SharedCommandHandler<>();

    b.forState(UserState::idle)
        .onCommand(HandleUpdate.class, (e, s, c) -> e.onUpdate(s, c, e::onUpdateWhileIdle))
        .onCommand(FileFetched.class, UserEntity::onFileNoLongerExpected);

    b.forState(UserState::waitingForFile)
        .onCommand(HandleUpdate.class, (e, s, c) -> e.onUpdate(s, c, e::onUpdateWhileWaiting))
        .onCommand(FileFetched.class, UserEntity::onFileFetched);

    b.forState(UserState::processing)
        .onCommand(HandleUpdate.class, (e, s, c) -> e.onUpdate(s, c, e::onUpdateWhileProcessing))
        .onCommand(FileFetched.class, UserEntity::onFileNoLongerExpected)
        .onCommand(TaskAccepted.class, UserEntity::onTaskAccepted)
        .onCommand(RecordDelivery.class, UserEntity::onRecordDelivery)
        .onCommand(RecordPreview.class, UserEntity::onRecordPreview)
        .onCommand(RecordStatus.class, UserEntity::onRecordStatus)
        .onCommand(TaskSucceeded.class, UserEntity::onTaskSucceeded)
        .onCommand(TaskFailed.class, UserEntity::onTaskFailed)
        .onCommand(UploadLost.class, UserEntity::onUploadLost)
        .onCommand(FileFetchedAgain.class, UserEntity::onFileFetchedAgain)
        .onCommand(CancelJob.class, UserEntity::onCancelJob)
        .onCommand(Stop.class, UserEntity::onStopWhileProcessing);

    b.forAnyState()
        .onCommand(FileNotFetched.class, UserEntity::onFileNotFetched)
        .onCommand(GetSummary.class, (e, s, c) -> e.Effect().reply(c.replyTo(), e.summaryOk(s)))
        .onCommand(Credit.class, UserEntity::onCredit)
        .onCommand(SetSubscription.class, UserEntity::onSetSubscription)
        .onCommand(SetBlocked.class, UserEntity::onSetBlocked)
        .onCommand(RefundPayment.class, UserEntity::onRefundPayment)
        .onCommand(RefundAnswered.class, UserEntity::onRefundAnswered)
        .onCommand(CancelSubscription.class, UserEntity::onCancelSubscription)
        .onCommand(CancelAnswered.class, UserEntity::onCancelAnswered)
        .onCommand(ChatUnreachable.class, UserEntity::onChatUnreachable)
        .onCommand(Wake.class, (e, s, c) -> e.Effect().reply(c.replyTo(), s.processing()))
        .onCommand(Echo.class, (e, s, c) -> e.Effect().none()
            .thenRun(x -> WebEvents.get(e.context.getSystem()).echo(e.id(), c.nonce()))
            .thenNoReply())
        .onCommand(GetRunningJob.class, (e, s, c) -> e.Effect()
            .reply(c.replyTo(), AdminJobs.running(e.userId, s, e.context.getSystem())))
        .onCommand(CancelJob.class, (e, s, c) -> e.Effect()
            .reply(c.replyTo(), StatusReply.error(AdminJobs.nothingToCancel(e.userId, s))))
        .onCommand(TaskAccepted.class,
            (e, s, c) -> e.Effect().reply(c.replyTo(), Done.getInstance()))
        .onCommand(RecordDelivery.class,
            (e, s, c) -> e.Effect().reply(c.replyTo(), Done.getInstance()))
        .onCommand(RecordPreview.class, (e, s, c) -> e.Effect().noReply())
        .onCommand(RecordStatus.class, (e, s, c) -> e.Effect().noReply())
        .onCommand(TaskSucceeded.class, (e, s, c) -> e.Effect().noReply())
        .onCommand(TaskFailed.class, (e, s, c) -> e.Effect().noReply())
        .onCommand(UploadLost.class, (e, s, c) -> e.Effect().noReply())
        .onCommand(FileFetchedAgain.class, UserEntity::onFileFetchedAgain)
        .onCommand(Stop.class, (e, s, c) -> e.drainOutboxes())
        .onCommand(ReadyToStop.class, (e, s, c) -> e.drainOutboxes())
        .onCommand(OutboxDrained.class, UserEntity::onOutboxDrained)
        .onCommand(ReplySent.class, UserEntity::onReplySent);
    return b;
  }

  /** Events to persist, what to say (to {@link #chatId}) and what to do once they are. */
  private final class Plan {
    final List<Event> events = new ArrayList<>();
    final List<Runnable> after = new ArrayList<>();
    final long chatId;
    UserState state;

    /** {@code chatId}: where what the plan says goes (the update's chat, or the job's). */
    Plan(UserState state, long chatId) {
      this.state = state;
      this.chatId = chatId;
    }

    Plan persist(Event event) {
      after.add(() -> JobMetrics.record(metrics, event));
      after.add(() -> WebJobEvents.publish(WebEvents.get(context.getSystem()), id(), event));
      events.add(event);
      state = UserEntity.this.events.apply(state, event);
      return this;
    }

    Plan accept(Inbound update) {
      return persist(new UpdateAccepted(update.updateId(), deps.user().dedupWindow()));
    }

    Replies replies() {
      return Replies.of(state, deps.billing().cvCost());
    }

    Plan say(String text) {
      return send(Outgoing.Text.plain(text));
    }

    Plan send(Outgoing message) {
      return send(ChatOutbox.Send.of(message));
    }

    /**
     * A message persisted with this plan's events and sent again after a crash until Telegram
     * confirms it: at most the one in flight at the crash repeats.
     */
    Plan sayDurably(String text) {
      return durably(text, 0);
    }

    /** Removes a message the user still sees, durably as {@link #sayDurably}; 0: nothing. */
    Plan deleteDurably(long messageId) {
      return messageId == 0 ? this : durably(null, messageId);
    }

    private Plan durably(String text, long deleteMessageId) {
      String id = UUID.randomUUID().toString();
      persist(new ReplyQueued(id, chatId, text, deleteMessageId));
      UserState.PendingReply reply =
          new UserState.PendingReply(id, chatId, text, deleteMessageId);
      String language = state.language();
      after.add(() -> sendDurably(reply, language));
      return this;
    }

    /** A notice that says nothing new when repeated: not queued twice in a row. */
    Plan notice(String key) {
      return notice(Outgoing.Text.plain(replies().text(key)));
    }

    Plan notice(Outgoing message) {
      return send(ChatOutbox.Send.notice(message));
    }

    private Plan send(ChatOutbox.Send send) {
      String language = state.language();
      after.add(() -> outbox(chatId, language).tell(send));
      return this;
    }

    Plan then(Runnable action) {
      after.add(action);
      return this;
    }

    ReplyEffect<Event, UserState> reply(ActorRef<StatusReply<Done>> replyTo) {
      return Effect()
          .persist(events)
          .thenRun(s -> after.forEach(Runnable::run))
          .thenReply(replyTo, s -> StatusReply.ack());
    }

    ReplyEffect<Event, UserState> noReply() {
      if (events.isEmpty()) {
        after.forEach(Runnable::run);
        return Effect().noReply();
      }
      return Effect().persist(events).thenRun(s -> after.forEach(Runnable::run)).thenNoReply();
    }
  }

  /** How one conversation state answers an update that passed the common checks. */
  @FunctionalInterface
  private interface UpdateHandler {
    ReplyEffect<Event, UserState> handle(Plan plan, HandleUpdate update);
  }

  /**
   * What every update goes through: dropped if seen, the user registered on first contact, the
   * language followed, groups answered with a pointer, the private chat reachable again; then
   * {@code inState} answers it.
   */
  private ReplyEffect<Event, UserState> onUpdate(
      UserState state, HandleUpdate cmd, UpdateHandler inState) {
    Inbound u = cmd.update();
    if (state.seen(u.updateId(), deps.user().dedupWindow())) {
      context.getLog().debug("user {}: update {} already handled", userId, u.updateId());
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    Plan plan = new Plan(state, u.chatId());
    if (!state.registered()) {
      Instant now = deps.clock().instant();
      plan.persist(new UserRegistered(u.chatId(), u.languageCode(), now));
      if (deps.billing().welcomeTokens() > 0) {
        plan.persist(
            new TokensCredited(deps.billing().welcomeTokens(), "welcome", WELCOME_KEY, now));
      }
    } else if (u.languageCode() != null && !u.languageCode().equals(state.language())) {
      plan.persist(new LanguageChanged(u.languageCode()));
    }
    if (!u.isPrivate()) {
      return onGroupUpdate(plan, cmd);
    }
    if (state.unreachable()) {
      long chatId = u.chatId();
      plan.persist(new ChatBecameReachable(deps.clock().instant()))
          .then(() -> outbox(chatId, null).tell(ChatOutbox.Resume.INSTANCE));
    }
    if (u.payment() != null) {
      return onPaymentUpdate(plan, cmd);
    }
    ReplyEffect<Event, UserState> effect = inState.handle(plan, cmd);
    context.getLog().info("user {} update {}: {} -> {}", userId, u.updateId(), describe(u),
        plan.state.conversation().name());
    return effect;
  }

  /**
   * The flow is private: in a group a command or a document is answered with a pointer to the
   * private chat, never with account data, prompts or results; other group messages get no answer.
   */
  private ReplyEffect<Event, UserState> onGroupUpdate(Plan plan, HandleUpdate cmd) {
    Inbound u = cmd.update();
    plan.accept(u);
    if (!u.command().isEmpty() || u.document() != null) {
      plan.notice("group.private-only");
    }
    context.getLog().info("user {} update {}: {} in group chat {}", userId, u.updateId(),
        describe(u), u.chatId());
    return plan.reply(cmd.replyTo());
  }

  /** /start, /help, /balance, /buy and /paysupport mean the same in every state; false otherwise. */
  private boolean onCommonCommand(Plan plan, Inbound u) {
    Replies r = plan.replies();
    switch (u.command()) {
      case "/start", "/help" -> plan.say(r.help());
      case "/balance" -> plan.say(r.balance(plan.state.account(), deps.clock().instant()));
      case "/buy" -> offerPurchases(plan);
      case "/paysupport" -> paySupport(plan);
      default -> {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- Stars payments, any state

  /** /buy: one invoice per token pack and the subscription, each an offer made to this user. */
  private void offerPurchases(Plan plan) {
    EngineSettings.Payments on = deps.payments();
    Replies r = plan.replies();
    if (!on.onSale()) {
      plan.say(r.text("buy"));
      return;
    }
    if (plan.state.account().blocked()) {
      plan.say(r.denial(Account.Denial.BLOCKED));
      return;
    }
    List<Purchases.Offer> offers = new ArrayList<>();
    for (EngineSettings.Payments.Pack pack : on.packs()) {
      offers.add(new Purchases.Offer(offerId(), Purchases.Kind.PACK, pack.tokens(), pack.stars()));
    }
    if (on.subscription().offered()) {
      offers.add(new Purchases.Offer(offerId(), Purchases.Kind.SUBSCRIPTION,
          on.subscription().tokens(), on.subscription().stars()));
    }
    plan.persist(new OffersMade(offers, deps.clock().instant())).say(r.text("buy.intro"));
    for (Purchases.Offer offer : offers) {
      plan.send(offer.kind() == Purchases.Kind.PACK ? r.invoice(offer) : r.subscriptionOffer(offer));
    }
  }

  /** True when the offer is still on sale as it was made. */
  private boolean onSale(Purchases.Offer offer) {
    EngineSettings.Payments on = deps.payments();
    return offer.kind() == Purchases.Kind.PACK
        ? on.packs().contains(new EngineSettings.Payments.Pack(offer.tokens(), offer.stars()))
        : on.subscription().stars() == offer.stars()
            && on.subscription().tokens() == offer.tokens();
  }

  private static String offerId() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
  }

  /** /paysupport: how to get help and the recent payments; the support chat hears of it if set. */
  private void paySupport(Plan plan) {
    EngineSettings.Payments on = deps.payments();
    List<Purchases.Purchase> recent = plan.state.purchases().recent(PAYMENTS_SHOWN);
    boolean forward = on.supportChatId() != 0;
    plan.say(plan.replies().paySupport(recent, on.supportContact(), forward));
    if (forward) {
      String text = Replies.of(UserState.empty(), deps.billing().cvCost())
          .paySupportForward(userId, recent);
      plan.then(() -> outbox(on.supportChatId(), null).tell(ChatOutbox.Send.of(
          Outgoing.Text.plain(text))));
    }
  }

  private static final int PAYMENTS_SHOWN = 5;

  private ReplyEffect<Event, UserState> onPaymentUpdate(Plan plan, HandleUpdate cmd) {
    Inbound u = cmd.update();
    plan.accept(u);
    if (u.payment() instanceof Inbound.PreCheckout query) {
      onPreCheckout(plan, query);
    } else if (u.payment() instanceof Inbound.Paid paid) {
      onPaid(plan, paid);
    } else if (u.payment() instanceof Inbound.Refunded refunded) {
      onRefunded(plan, refunded.chargeId(), "telegram");
    }
    return plan.reply(cmd.replyTo());
  }

  /**
   * Telegram waits at most 10 s for the answer: it goes straight to the Bot API, never behind the
   * chat's queued messages. Only an offer made to this user, in Stars, at its price, is taken.
   */
  private void onPreCheckout(Plan plan, Inbound.PreCheckout query) {
    String refusal = preCheckoutRefusal(plan.state, query);
    String error = refusal == null ? null : plan.replies().text(refusal);
    context.getLog().info("user {}: pre-checkout {} of {} {} for {}: {}", userId,
        query.queryId(), query.totalAmount(), LogSafe.text(query.currency()),
        LogSafe.text(query.payload()), refusal == null ? "ok" : refusal);
    plan.then(() -> deps.telegram().answerPreCheckout(query.queryId(), error)
        .whenComplete((ok, failure) -> {
          if (failure != null) {
            LOG.warn("user {}: answering pre-checkout {} failed: {}", userId,
                query.queryId(), Failures.describe(failure));
          }
        }));
  }

  private static String preCheckoutRefusal(UserState state, Inbound.PreCheckout query) {
    Purchases.Offer named = Purchases.Offer.parse(query.payload());
    if (named == null || !named.equals(state.purchases().offer(named.offerId()))) {
      return "pay.unknown-offer";
    }
    if (!STARS.equals(query.currency()) || query.totalAmount() != named.stars()) {
      return "pay.wrong-price";
    }
    if (state.account().blocked()) {
      return "pay.blocked";
    }
    return null;
  }

  /**
   * Money taken is never refused: the tokens the invoice named are credited once per charge id,
   * whatever the offers are today.
   */
  private void onPaid(Plan plan, Inbound.Paid paid) {
    if (plan.state.account().hasApplied("stars:" + paid.chargeId())) {
      context.getLog().info("user {}: payment {} was credited already", userId, paid.chargeId());
      return;
    }
    Instant now = deps.clock().instant();
    Purchases.Offer offer = Purchases.Offer.parse(paid.payload());
    Replies r = plan.replies();
    if (offer == null) {
      context.getLog().error("user {}: payment {} of {} Stars names no offer ({}): recorded"
          + " with no tokens, to be settled through /paysupport", userId, paid.chargeId(),
          paid.totalAmount(), LogSafe.text(paid.payload()));
      plan.persist(new PaymentReceived(paid.chargeId(), Purchases.Kind.PACK, paid.totalAmount(),
          0, null, now)).sayDurably(r.unrecognisedPayment(paid.totalAmount()));
      return;
    }
    if (!onSale(offer)) {
      context.getLog().info("user {}: payment {} is for an offer no longer on sale ({} tokens for"
          + " {} Stars); credited as offered", userId, paid.chargeId(), offer.tokens(),
          offer.stars());
    }
    Instant until = null;
    if (offer.kind() == Purchases.Kind.SUBSCRIPTION) {
      until = paid.subscriptionExpiration() > 0
          ? Instant.ofEpochSecond(paid.subscriptionExpiration())
          : now.plus(Duration.ofDays(30));
    }
    context.getLog().info("user {}: payment {} of {} Stars: +{} tokens{}", userId,
        paid.chargeId(), paid.totalAmount(), offer.tokens(),
        until == null ? "" : ", subscription until " + until);
    plan.persist(new PaymentReceived(paid.chargeId(), offer.kind(), paid.totalAmount(),
        offer.tokens(), until, now));
    long balance = plan.state.account().balance();
    plan.sayDurably(until == null ? r.paid(offer.tokens(), balance)
        : r.subscribed(plan.state.account().subscriptionUntil(), offer.tokens(), balance));
  }

  /**
   * A refund takes back the payment's tokens, but never what a running job has reserved: the
   * ledger shows what was taken. A charge refunded already changes nothing.
   */
  private boolean onRefunded(Plan plan, String chargeId, String by) {
    Purchases.Purchase payment = plan.state.purchases().payment(chargeId);
    if (payment == null || payment.refunded()) {
      context.getLog().info("user {}: refund of {} by {} ignored: {}", userId,
          LogSafe.text(chargeId), by, payment == null ? "no such payment" : "refunded already");
      return false;
    }
    long taken = Math.min(payment.tokens(), Math.max(0, plan.state.account().available()));
    context.getLog().info("user {}: payment {} refunded by {}, {} of {} tokens taken back", userId,
        chargeId, by, taken, payment.tokens());
    plan.persist(new PaymentRefunded(chargeId, taken, by, deps.clock().instant()))
        .sayDurably(plan.replies().refunded(payment.stars(), taken,
            plan.state.account().balance()));
    return true;
  }

  private ReplyEffect<Event, UserState> onRefundPayment(UserState state, RefundPayment cmd) {
    Purchases.Purchase payment = state.purchases().payment(cmd.chargeId());
    if (payment == null) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          AdminRefusal.notFound("no payment with telegram_payment_charge_id " + cmd.chargeId())));
    }
    if (payment.refunded()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(AdminRefusal.conflict(
          "payment " + cmd.chargeId() + " was refunded already at " + payment.refundedAt())));
    }
    if (!refundsInFlight.add(cmd.chargeId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(AdminRefusal.conflict(
          "a refund of payment " + cmd.chargeId() + " is in progress")));
    }
    context.pipeToSelf(deps.telegram().refundStarPayment(privateChat(), cmd.chargeId()),
        (ok, failure) -> {
          Throwable cause = failure == null ? null : Failures.cause(failure);
          int code = cause instanceof TelegramGateway.Failure f ? f.code : 0;
          return new RefundAnswered(cmd.chargeId(), code,
              cause == null ? null : String.valueOf(cause.getMessage()), cmd.replyTo());
        });
    return Effect().noReply();
  }

  /**
   * Telegram refunded it (or says it was refunded already, elsewhere): the refund is recorded
   * either way, as the Stars are gone.
   */
  private ReplyEffect<Event, UserState> onRefundAnswered(UserState state, RefundAnswered cmd) {
    refundsInFlight.remove(cmd.chargeId());
    boolean alreadyRefunded = cmd.error() != null && cmd.error().contains("CHARGE_ALREADY_REFUNDED");
    if (cmd.error() != null && !alreadyRefunded) {
      context.getLog().warn("user {}: refund of {} failed: {} {}", userId, cmd.chargeId(),
          cmd.errorCode(), cmd.error());
      return Effect().reply(cmd.replyTo(), StatusReply.error(AdminRefusal.upstream(
          "Telegram refused the refund: " + cmd.errorCode() + " " + cmd.error())));
    }
    Plan plan = new Plan(state, privateChat());
    onRefunded(plan, cmd.chargeId(), alreadyRefunded ? "telegram" : "admin");
    StatusReply<Summary> conflict = StatusReply.error(AdminRefusal.conflict("Telegram says payment "
        + cmd.chargeId() + " was refunded already; the refund is recorded"));
    return Effect()
        .persist(plan.events)
        .thenRun(s -> plan.after.forEach(Runnable::run))
        .thenReply(cmd.replyTo(), s -> alreadyRefunded ? conflict : summaryOk(s));
  }

  private ReplyEffect<Event, UserState> onCancelSubscription(
      UserState state, CancelSubscription cmd) {
    Purchases.Purchase subscription = state.purchases().subscription();
    if (subscription == null) {
      return Effect().reply(cmd.replyTo(),
          StatusReply.error(AdminRefusal.notFound("the user has no Stars subscription")));
    }
    if (subscription.renewalCancelled()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          AdminRefusal.conflict("the subscription's renewal is cancelled already")));
    }
    context.pipeToSelf(
        deps.telegram().cancelStarSubscription(privateChat(), subscription.chargeId()),
        (ok, failure) -> new CancelAnswered(subscription.chargeId(),
            failure == null ? null : Failures.describe(failure), cmd.replyTo()));
    return Effect().noReply();
  }

  private ReplyEffect<Event, UserState> onCancelAnswered(UserState state, CancelAnswered cmd) {
    if (cmd.error() != null) {
      context.getLog().warn("user {}: cancelling subscription {} failed: {}", userId,
          cmd.chargeId(), cmd.error());
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          AdminRefusal.upstream("Telegram refused to cancel the subscription: " + cmd.error())));
    }
    context.getLog().info("user {}: subscription {} will not renew", userId, cmd.chargeId());
    return Effect()
        .persist(new SubscriptionRenewalCancelled(cmd.chargeId(), deps.clock().instant()))
        .thenReply(cmd.replyTo(), this::summaryOk);
  }

  // ---------------------------------------------------------------- idle

  private ReplyEffect<Event, UserState> onUpdateWhileIdle(Plan plan, HandleUpdate cmd) {
    Inbound u = cmd.update();
    plan.accept(u);
    if (!onCommonCommand(plan, u)) {
      Replies r = plan.replies();
      switch (u.command()) {
        case "/cv" -> requestFile(plan);
        case "/cancel" -> plan.notice("cancel.nothing");
        default -> plan.notice(u.document() != null ? "file.without-cv" : "unknown");
      }
    }
    return plan.reply(cmd.replyTo());
  }

  /** /cv from idle: the access check (blocked, subscription, balance), then the prompt. */
  private void requestFile(Plan plan) {
    Account.Denial denial = denial(plan.state);
    if (denial != null) {
      plan.say(plan.replies().denial(denial));
      return;
    }
    plan.persist(new FileRequested(deps.clock().instant())).send(plan.replies().prompt());
  }

  // ---------------------------------------------------------------- waiting for the file

  private ReplyEffect<Event, UserState> onUpdateWhileWaiting(Plan plan, HandleUpdate cmd) {
    Inbound u = cmd.update();
    if (u.document() != null) {
      return onDocument(plan, cmd);
    }
    plan.accept(u);
    if (!onCommonCommand(plan, u)) {
      Replies r = plan.replies();
      switch (u.command()) {
        case "/cv" -> {
          Account.Denial denial = denial(plan.state);
          if (denial != null) {
            plan.persist(new FileRequestClosed(deps.clock().instant())).say(r.denial(denial));
          } else {
            plan.send(r.prompt());
          }
        }
        case "/cancel" -> plan.persist(new FileRequestClosed(deps.clock().instant()))
            .say(r.text("cancel.done"));
        default -> plan.notice(Outgoing.Text.plain(r.pleaseSendFile()));
      }
    }
    return plan.reply(cmd.replyTo());
  }

  /** Refused by its reported size, or downloaded; the update is accepted once the file is checked. */
  private ReplyEffect<Event, UserState> onDocument(Plan plan, HandleUpdate cmd) {
    Inbound u = cmd.update();
    long max = deps.maxFileSize();
    if (u.document().size() > max) {
      context.getLog().info("user {} update {}: file refused by reported size {}", userId,
          u.updateId(), u.document().size());
      return plan.accept(u).say(plan.replies().text("file.too-large")).reply(cmd.replyTo());
    }
    return plan.then(() -> context.pipeToSelf(
            deps.telegram().download(u.document().fileId(), max),
            (bytes, error) -> {
              if (error == null) {
                return new FileFetched(u, bytes, cmd.replyTo());
              }
              Throwable cause = Failures.cause(error);
              boolean tooLarge = cause instanceof TelegramGateway.Failure f && f.code == 413;
              return new FileNotFetched(u, tooLarge, String.valueOf(cause.getMessage()),
                  cmd.replyTo());
            }))
        .noReply();
  }

  private ReplyEffect<Event, UserState> onFileFetched(UserState state, FileFetched cmd) {
    Inbound u = cmd.update();
    if (state.seen(u.updateId(), deps.user().dedupWindow())) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    Plan plan = new Plan(state, u.chatId()).accept(u);
    Replies r = plan.replies();
    CvFile.Verdict verdict = CvFile.check(cmd.content(), deps.maxFileSize());
    context.getLog().info("user {} update {}: file of {} bytes is {}", userId, u.updateId(),
        cmd.content().length, verdict);
    switch (verdict) {
      case EMPTY -> plan.say(r.text("file.empty"));
      case TOO_LARGE -> plan.say(r.text("file.too-large"));
      case INVALID_FORMAT -> plan.say(r.text("file.invalid-format"));
      case PDF, TEXT -> startJob(plan, u, cmd.content());
    }
    return plan.reply(cmd.replyTo());
  }

  /** A valid file: the access check once more (it may have changed), then the job. */
  private void startJob(Plan plan, Inbound u, byte[] content) {
    Account.Denial denial = denial(plan.state);
    if (denial != null) {
      plan.persist(new FileRequestClosed(deps.clock().instant()))
          .say(plan.replies().denial(denial));
      return;
    }
    String jobId = UUID.randomUUID().toString();
    String fileName = u.document().fileName() == null ? "cv" : u.document().fileName();
    long cost = deps.billing().cvCost();
    long chatId = u.chatId();
    plan.persist(new JobStarted(jobId, cost, fileName, deps.clock().instant(), chatId,
            u.document().fileId()))
        .say(plan.replies().text("job.analyzing"));
    String language = plan.state.language();
    plan.then(() -> {
      context.getLog().info("user {} job {}: started, {} reserved", userId, value(JOB_ID, jobId),
          cost);
      deps.jobs().start(context, new JobLauncher.JobSpec(Long.parseLong(userId), chatId, jobId,
          null, fileName, content, 0, outbox(chatId, language)), taskReports);
    });
  }

  // ---------------------------------------------------------------- processing

  private ReplyEffect<Event, UserState> onUpdateWhileProcessing(Plan plan, HandleUpdate cmd) {
    Inbound u = cmd.update();
    plan.accept(u);
    if (!onCommonCommand(plan, u)) {
      switch (u.command()) {
        case "/cv" -> {
          cancelJob(plan);
          requestFile(plan);
        }
        case "/cancel" -> cancelJob(plan);
        default -> plan.notice("job.busy");
      }
    }
    return plan.reply(cmd.replyTo());
  }

  /**
   * The job ends uncharged; the outbox drops what it still holds of the job and the task stops
   * before the reply is queued, so nothing of the job reaches the user after it.
   */
  private void cancelJob(Plan plan) {
    UserState.Job job = plan.state.job();
    long chatId = chatOf(job);
    context.getLog().info("user {} job {} task {}: cancelled by user", userId,
        value(JOB_ID, job.jobId()), value(TASK_ID, job.taskId()));
    plan.persist(new JobEnded(job.jobId(), JobOutcome.CANCELLED, deps.clock().instant()))
        .then(() -> outbox(chatId, null).tell(new ChatOutbox.DropJob(job.jobId())))
        .then(() -> deps.jobs().cancel(context, job.jobId(), job.taskId()))
        .deleteDurably(job.statusMessageId())
        .sayDurably(plan.replies().ended(JobOutcome.CANCELLED, null));
  }

  /** An operator cancels the job: as the user's /cancel, in the job's chat. */
  private ReplyEffect<Event, UserState> onCancelJob(UserState state, CancelJob cmd) {
    context.getLog().info("user {} job {}: cancel asked by an operator", userId,
        value(JOB_ID, state.job().jobId()));
    Plan plan = new Plan(state, chatOf(state.job()));
    cancelJob(plan);
    return Effect().persist(plan.events).thenRun(s -> plan.after.forEach(Runnable::run))
        .thenReply(cmd.replyTo(), this::summaryOk);
  }

  private ReplyEffect<Event, UserState> onTaskAccepted(UserState state, TaskAccepted cmd) {
    if (!state.hasJob(cmd.jobId()) || state.job().taskId() != null) {
      return Effect().reply(cmd.replyTo(), Done.getInstance());
    }
    context.getLog().info("user {} job {} task {}: accepted by the Runner, queue position {}",
        userId, cmd.jobId(), cmd.taskId(), cmd.queuePosition());
    long chatId = chatOf(state.job());
    return Effect()
        .persist(new JobAccepted(cmd.jobId(), cmd.taskId(), cmd.queuePosition()))
        .thenRun(s -> WebJobEvents.publish(WebEvents.get(context.getSystem()), id(),
            new JobAccepted(cmd.jobId(), cmd.taskId(), cmd.queuePosition())))
        .thenRun(s -> outbox(chatId, s.language()).tell(new ChatOutbox.Send(
            Outgoing.Text.plain(Replies.of(s, deps.billing().cvCost()).queued(cmd.queuePosition())),
            cmd.jobId(), null)))
        .thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, UserState> onRecordDelivery(UserState state, RecordDelivery cmd) {
    if (!state.hasJob(cmd.jobId()) || cmd.index() <= state.job().lastDelivered()) {
      return Effect().reply(cmd.replyTo(), Done.getInstance());
    }
    if (LOG.isDebugEnabled()) {
      context.getLog().debug("user {} job {} task {}: output {} delivered", userId, cmd.jobId(),
          state.job().taskId(), cmd.index());
    }
    return Effect()
        .persist(new OutputDelivered(cmd.jobId(), cmd.index(), cmd.eventId()))
        .thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, UserState> onRecordStatus(UserState state, RecordStatus cmd) {
    if (!state.hasJob(cmd.jobId())) {
      return Effect().noReply();
    }
    return Effect()
        .persist(new StatusMessageShown(cmd.jobId(), cmd.messageId()))
        .thenNoReply();
  }

  private ReplyEffect<Event, UserState> onRecordPreview(UserState state, RecordPreview cmd) {
    if (!state.hasJob(cmd.jobId()) || cmd.index() <= state.job().lastDelivered()) {
      return Effect().noReply();
    }
    return Effect()
        .persist(new PreviewMessageSent(cmd.jobId(), cmd.index(), cmd.messageId()))
        .thenNoReply();
  }

  /** Success captures the reservation once per Runner task ({@code cv_analysis_{task_id}}). */
  private ReplyEffect<Event, UserState> onTaskSucceeded(UserState state, TaskSucceeded cmd) {
    if (!state.hasJob(cmd.jobId())) {
      return Effect().noReply();
    }
    UserState.Job job = state.job();
    String key = "cv_analysis_" + job.taskId();
    long charged = state.account().hasApplied(key) ? 0 : job.cost();
    context.getLog().info("user {} job {} task {}: succeeded, charged {} under {}", userId,
        job.jobId(), value(TASK_ID, job.taskId()), charged, key);
    Plan plan = new Plan(state, chatOf(job));
    return plan
        .persist(new JobSucceeded(job.jobId(), job.taskId(), charged, key, deps.clock().instant()))
        .deleteDurably(job.statusMessageId())
        .sayDurably(plan.replies().succeeded(charged))
        .noReply();
  }

  private ReplyEffect<Event, UserState> onTaskFailed(UserState state, TaskFailed cmd) {
    if (!state.hasJob(cmd.jobId())) {
      return Effect().noReply();
    }
    context.getLog().info("user {} job {} task {}: ended {}, reservation released", userId,
        cmd.jobId(), value(TASK_ID, state.job().taskId()), cmd.outcome());
    Plan plan = new Plan(state, chatOf(state.job()));
    return plan
        .persist(new JobEnded(cmd.jobId(), cmd.outcome(), deps.clock().instant()))
        .deleteDurably(state.job().statusMessageId())
        .sayDurably(plan.replies().ended(cmd.outcome(), cmd.detail()))
        .noReply();
  }

  private ReplyEffect<Event, UserState> onUploadLost(UserState state, UploadLost cmd) {
    if (!state.hasJob(cmd.jobId()) || state.job().taskId() != null) {
      return Effect().noReply();
    }
    return onTaskFailed(state, new TaskFailed(cmd.jobId(), JobOutcome.UPLOAD_LOST, null));
  }

  /**
   * The engine died before the Runner accepted the upload: the file is fetched from Telegram again
   * and uploaded with the same idempotency key (the job id), so a Runner that honours it returns
   * the task it already made. A file Telegram no longer serves ends the job uncharged.
   */
  private void uploadAgain(UserState.Job job) {
    if (job.fileId() == null) {
      context.getSelf().tell(new UploadLost(job.jobId()));
      return;
    }
    context.getLog().info("user {} job {}: the upload was not accepted before the restart;"
        + " fetching the file again", userId, job.jobId());
    context.pipeToSelf(deps.telegram().download(job.fileId(), deps.maxFileSize()),
        (content, error) -> error == null
            ? new FileFetchedAgain(job.jobId(), job.fileName(), content)
            : new UploadLost(job.jobId()));
  }

  /**
   * The file of a job whose upload a crash cut short, fetched again: uploaded again, or, when the
   * job was cancelled meanwhile, used to find and cancel the Runner task the cut-short upload may
   * have made ({@link JobLauncher#cancelOrphan}).
   */
  private ReplyEffect<Event, UserState> onFileFetchedAgain(
      UserState state, FileFetchedAgain cmd) {
    UserState.Job job = state.job();
    if (!state.hasJob(cmd.jobId())) {
      deps.jobs().cancelOrphan(context, new JobLauncher.JobSpec(Long.parseLong(userId), 0,
          cmd.jobId(), null, cmd.fileName(), cmd.content(), 0, null));
      return Effect().noReply();
    }
    if (job.taskId() != null) {
      return Effect().noReply();
    }
    long chatId = chatOf(job);
    deps.jobs().start(context, new JobLauncher.JobSpec(Long.parseLong(userId), chatId,
        job.jobId(), null, job.fileName(), cmd.content(), 0, outbox(chatId, state.language())),
        taskReports);
    return Effect().noReply();
  }

  /** A stop while a job runs lets the task record the output in flight first. */
  private ReplyEffect<Event, UserState> onStopWhileProcessing(UserState state, Stop stop) {
    ActorRef<Done> ready = context.messageAdapter(Done.class, d -> ReadyToStop.INSTANCE);
    if (deps.jobs().drain(context, state.job().jobId(), ready)) {
      return Effect().noReply();
    }
    return drainOutboxes();
  }

  // ---------------------------------------------------------------- any state

  /** A download that ended after the file stopped being expected: accepted, answered if busy. */
  private ReplyEffect<Event, UserState> onFileNoLongerExpected(UserState state, FileFetched cmd) {
    Inbound u = cmd.update();
    if (state.seen(u.updateId(), deps.user().dedupWindow())) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    Plan plan = new Plan(state, u.chatId()).accept(u);
    if (state.processing()) {
      plan.notice("job.busy");
    }
    return plan.reply(cmd.replyTo());
  }

  private ReplyEffect<Event, UserState> onFileNotFetched(UserState state, FileNotFetched cmd) {
    Inbound u = cmd.update();
    if (state.seen(u.updateId(), deps.user().dedupWindow())) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    context.getLog().warn("user {} update {}: file download failed: {}", userId, u.updateId(),
        cmd.reason());
    Plan plan = new Plan(state, u.chatId()).accept(u);
    return plan
        .say(plan.replies().text(cmd.tooLarge() ? "file.too-large" : "file.download-failed"))
        .reply(cmd.replyTo());
  }

  /** Last step of a stop: what the chat outboxes hold is sent before the actor stops. */
  private ReplyEffect<Event, UserState> drainOutboxes() {
    if (outboxes.isEmpty()) {
      return Effect().stop().thenNoReply();
    }
    ActorRef<ChatOutbox.Drained> drained =
        context.messageAdapter(ChatOutbox.Drained.class, d -> OutboxDrained.INSTANCE);
    outboxesDraining = outboxes.size();
    outboxes.values().forEach(o -> o.tell(new ChatOutbox.Drain(drained)));
    return Effect().noReply();
  }

  /**
   * The outboxes sent everything; the actor stops once Telegram's confirmations of the replies
   * they sent are recorded too (they are on their way), so that a graceful stop repeats none.
   */
  private ReplyEffect<Event, UserState> onOutboxDrained(UserState state, OutboxDrained drained) {
    if (--outboxesDraining > 0) {
      return Effect().noReply();
    }
    if (state.pendingReplies().isEmpty()) {
      return Effect().stop().thenNoReply();
    }
    stoppingAfterReplies = true;
    return Effect().noReply();
  }

  /**
   * Telegram refuses the private chat (bot blocked, chat gone): nothing more is sent and a running
   * job is cancelled uncharged. A group that removed the bot changes nothing for the user.
   */
  private ReplyEffect<Event, UserState> onChatUnreachable(UserState state, ChatUnreachable cmd) {
    ChatOutbox.Unreachable r = cmd.report();
    if (r.chatId() != privateChat()) {
      context.getLog().info("user {}: group chat {} cannot be reached ({} {})", userId, r.chatId(),
          r.code(), r.reason());
      return Effect().noReply();
    }
    if (state.unreachable()) {
      return Effect().noReply();
    }
    context.getLog().warn("user {}: chat {} cannot be reached ({} {})", userId, r.chatId(),
        r.code(), r.reason());
    Plan plan = new Plan(state, r.chatId())
        .persist(new ChatBecameUnreachable(r.code(), r.reason(), deps.clock().instant()));
    UserState.Job job = state.job();
    if (job != null) {
      context.getLog().info("user {} job {} task {}: cancelled, nobody to deliver to", userId,
          value(JOB_ID, job.jobId()), value(TASK_ID, job.taskId()));
      plan.persist(new JobEnded(job.jobId(), JobOutcome.CANCELLED, deps.clock().instant()))
          .then(() -> deps.jobs().cancel(context, job.jobId(), job.taskId()));
    }
    return plan.noReply();
  }

  // ---------------------------------------------------------------- admin

  private ReplyEffect<Event, UserState> onCredit(UserState state, Credit cmd) {
    if (cmd.amount() <= 0) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("amount must be positive"));
    }
    if (state.account().hasApplied(cmd.idempotencyKey())) {
      return Effect().reply(cmd.replyTo(), summaryOk(state));
    }
    context.getLog().info("user {}: credit {} ({})", userId, cmd.amount(),
        LogSafe.text(cmd.reason()));
    return Effect()
        .persist(new TokensCredited(cmd.amount(), cmd.reason(), cmd.idempotencyKey(),
            deps.clock().instant()))
        .thenReply(cmd.replyTo(), this::summaryOk);
  }

  private ReplyEffect<Event, UserState> onSetSubscription(UserState state, SetSubscription cmd) {
    return Effect()
        .persist(new SubscriptionSet(cmd.until()))
        .thenReply(cmd.replyTo(), this::summaryOk);
  }

  private ReplyEffect<Event, UserState> onSetBlocked(UserState state, SetBlocked cmd) {
    if (state.account().blocked() == cmd.blocked()) {
      return Effect().reply(cmd.replyTo(), summaryOk(state));
    }
    Instant now = deps.clock().instant();
    Event event = cmd.blocked() ? new AccountBlocked(now) : new AccountUnblocked(now);
    return Effect().persist(event).thenReply(cmd.replyTo(), this::summaryOk);
  }

  private StatusReply<Summary> summaryOk(UserState s) {
    Account a = s.account();
    List<Account.LedgerEntry> ledger = a.ledger();
    int shown = deps.user().ledgerShown();
    List<Account.LedgerEntry> last =
        ledger.size() > shown ? ledger.subList(ledger.size() - shown, ledger.size()) : ledger;
    boolean known = s.registered() || !a.ledger().isEmpty() || a.blocked()
        || a.subscriptionUntil() != null;
    UserState.Job job = s.job();
    return StatusReply.success(new Summary(userId, known, s.conversation().name(),
        a.balance(), a.reserved(), a.subscriptionUntil(), a.blocked(), s.unreachable(),
        job == null ? null : job.jobId(), job == null ? null : job.taskId(),
        job == null ? 0 : job.lastDelivered(), List.copyOf(last),
        s.purchases().recent(deps.user().ledgerShown())));
  }

  // ---------------------------------------------------------------- events

  @Override
  public EventHandler<UserState, Event> eventHandler() {
    return EVENTS;
  }

  /**
   * One for every entity: the handlers hold no entity state, and a handler built per entity (48
   * cases with their predicates) cost about 4 KB of heap per user held in memory.
   */
  private static final EventHandler<UserState, Event> EVENTS =
      EventHandlerBuilder.<UserState, Event>builder()
          .forAnyState()
          .onEvent(UserRegistered.class, (s, e) -> s.registered(e))
          .onEvent(LanguageChanged.class, (s, e) -> s.languageChanged(e))
          .onEvent(UpdateAccepted.class, (s, e) -> s.updateAccepted(e))
          .onEvent(ChatBecameUnreachable.class, (s, e) -> s.withUnreachable(true))
          .onEvent(ChatBecameReachable.class, (s, e) -> s.withUnreachable(false))
          .onEvent(FileRequested.class, (s, e) -> s.fileRequested())
          .onEvent(FileRequestClosed.class, (s, e) -> s.fileRequestClosed())
          .onEvent(TokensCredited.class, (s, e) -> s.credited(e))
          .onEvent(SubscriptionSet.class, (s, e) -> s.subscriptionSet(e))
          .onEvent(AccountBlocked.class, (s, e) -> s.blocked(true))
          .onEvent(AccountUnblocked.class, (s, e) -> s.blocked(false))
          .onEvent(JobStarted.class, (s, e) -> s.jobStarted(e))
          .onEvent(JobAccepted.class, (s, e) -> s.jobAccepted(e))
          .onEvent(OutputDelivered.class, (s, e) -> s.outputDelivered(e))
          .onEvent(PreviewMessageSent.class, (s, e) -> s.previewMessageSent(e))
          .onEvent(StatusMessageShown.class, (s, e) -> s.statusMessageShown(e))
          .onEvent(JobSucceeded.class, (s, e) -> s.jobSucceeded(e))
          .onEvent(JobEnded.class, (s, e) -> s.jobEnded(e))
          .onEvent(OffersMade.class, (s, e) -> s.offersMade(e))
          .onEvent(PaymentReceived.class, (s, e) -> s.paymentReceived(e))
          .onEvent(PaymentRefunded.class, (s, e) -> s.paymentRefunded(e))
          .onEvent(SubscriptionRenewalCancelled.class, (s, e) -> s.renewalCancelled(e))
          .onEvent(ReplyQueued.class, (s, e) -> s.replyQueued(e))
          .onEvent(ReplyConfirmed.class, (s, e) -> s.replyConfirmed(e))
          .build();

  // ---------------------------------------------------------------- helpers

  private Account.Denial denial(UserState s) {
    return s.account().denialFor(deps.billing().cvCost(), deps.billing().requireSubscription(),
        deps.clock().instant());
  }

  /** The user's id as a number. */
  private long id() {
    return Long.parseLong(userId);
  }

  /** The user's private chat: Telegram gives it the user's own id. */
  private long privateChat() {
    return Long.parseLong(userId);
  }

  /** Where a job's results go: the chat it was started from (older journals: the private chat). */
  private long chatOf(UserState.Job job) {
    return job.chatId() != 0 ? job.chatId() : privateChat();
  }

  private static String describe(Inbound u) {
    if (u.payment() != null) {
      return u.payment().getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    }
    if (u.document() != null) {
      return "document of " + u.document().size() + " bytes";
    }
    String command = u.command();
    return command.isEmpty() ? (u.text() == null ? "non-text message" : "text")
        : LogSafe.text(command, 64);
  }

  /** How long a durable reply may wait in a busy outbox before its confirmation is given up. */
  private static final Duration REPLY_CONFIRM_TIMEOUT = Duration.ofMinutes(30);

  /** Sends a pending reply; {@link ReplySent} comes back once Telegram accepted it. */
  private void sendDurably(UserState.PendingReply reply, String language) {
    ActorRef<ChatOutbox.Command> outbox = outbox(reply.chatId(), language);
    context.ask(Done.class, outbox, REPLY_CONFIRM_TIMEOUT,
        ackTo -> new ChatOutbox.Send(reply.message(), null, ackTo),
        (done, error) -> new ReplySent(reply.id(), error == null));
  }

  private ReplyEffect<Event, UserState> onReplySent(UserState state, ReplySent sent) {
    if (!sent.confirmed()) {
      context.getLog().warn("user {}: reply {} not confirmed within {}; it is sent again after"
          + " the next restart", userId, sent.id(), REPLY_CONFIRM_TIMEOUT);
      return stoppingAfterReplies ? Effect().stop().thenNoReply() : Effect().noReply();
    }
    boolean pending = state.pendingReplies().stream().anyMatch(r -> r.id().equals(sent.id()));
    if (!pending) {
      return Effect().noReply();
    }
    boolean last = state.pendingReplies().size() == 1;
    return stoppingAfterReplies && last
        ? Effect().persist(new ReplyConfirmed(sent.id())).thenStop().thenNoReply()
        : Effect().persist(new ReplyConfirmed(sent.id())).thenNoReply();
  }

  /** The chat's outbox; {@code language} picks the failure notice when it is first created. */
  private ActorRef<ChatOutbox.Command> outbox(long chatId, String language) {
    return outboxes.computeIfAbsent(chatId, id -> {
      ChatOutbox.Deps withNotice =
          deps.outbox().withFailureNotice(Texts.of(language).get("delivery.failed"));
      ActorRef<ChatOutbox.Unreachable> owner =
          context.messageAdapter(ChatOutbox.Unreachable.class, ChatUnreachable::new);
      return context.spawn(ChatOutbox.create(id, withNotice, owner), "outbox-" + id);
    });
  }
}
