package io.botengine.user;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.pattern.StatusReply;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import io.botengine.EngineSettings;
import io.botengine.JsonSerializable;
import io.botengine.LogSafe;
import io.botengine.job.CvFile;
import io.botengine.job.JobLauncher;
import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Inbound;
import io.botengine.telegram.Outgoing;
import io.botengine.telegram.TelegramGateway;
import io.botengine.telegram.Texts;
import io.botengine.user.UserState.Stage;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  /** Task: the Runner accepted the upload; answered once that is persisted. */
  public record TaskAccepted(
      String jobId, String taskId, int queuePosition, ActorRef<Done> replyTo) implements Command {}

  /** Task: output {@code index} reached Telegram; answered once that is persisted. */
  public record RecordDelivery(String jobId, long index, ActorRef<Done> replyTo)
      implements Command {}

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

  /** Keeps a user with a running job awake; answered with whether a job still runs. */
  public record Wake(ActorRef<Boolean> replyTo) implements Command {}

  private record FileFetched(Inbound update, byte[] content, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  private record FileNotFetched(
      Inbound update, boolean tooLarge, String reason, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  private record UploadLost(String jobId) implements Command {}

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
      List<Account.LedgerEntry> ledger)
      implements JsonSerializable {}

  // ---------------------------------------------------------------- events

  /** Everything that ever happened to a user, in the journal. */
  public sealed interface Event extends JsonSerializable {}

  /** First contact. */
  public record UserRegistered(long chatId, String language, Instant at) implements Event {}

  /** The user's Telegram language changed; texts follow it. */
  public record LanguageChanged(String language) implements Event {}

  /** Telegram refuses to deliver to the chat (bot blocked, chat gone): nothing is sent to it. */
  public record ChatBecameUnreachable(int code, String reason, Instant at) implements Event {}

  /** The user wrote again after the chat was unreachable. */
  public record ChatBecameReachable(Instant at) implements Event {}

  /** An update was handled; later deliveries of it are dropped. */
  public record UpdateAccepted(long updateId) implements Event {}

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

  /** A valid file started a job; its cost is reserved. The file's bytes are not in the journal. */
  public record JobStarted(String jobId, long cost, String fileName, Instant at) implements Event {}

  /** The Runner accepted the upload under {@code taskId}. */
  public record JobAccepted(String jobId, String taskId, int queuePosition) implements Event {}

  /** Output {@code index} of the job reached the user. */
  public record OutputDelivered(String jobId, long index) implements Event {}

  /** The job succeeded: the reservation is captured as a spend under {@code idempotencyKey}. */
  public record JobSucceeded(
      String jobId, String taskId, long charged, String idempotencyKey, Instant at)
      implements Event {}

  /** The job ended without success: the reservation is released. */
  public record JobEnded(String jobId, JobOutcome outcome, Instant at) implements Event {}

  // ---------------------------------------------------------------- wiring

  /** What a user actor needs from the rest of the engine; tests pass their own. */
  public record Deps(
      EngineSettings.Billing billing,
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
            Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), deps))
                .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(String userId, Deps deps) {
    return Behaviors.setup(ctx -> new UserEntity(ctx, userId, deps));
  }

  private final ActorContext<Command> context;
  private final String userId;
  private final Deps deps;
  private final Map<Long, ActorRef<ChatOutbox.Command>> outboxes = new HashMap<>();
  private int outboxesDraining;

  private UserEntity(ActorContext<Command> context, String userId, Deps deps) {
    super(PersistenceId.of(ENTITY_KEY.name(), userId));
    this.context = context;
    this.userId = userId;
    this.deps = deps;
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

  private void onRecovered(UserState state) {
    if (state.stage() != Stage.PROCESSING || state.job() == null) {
      return;
    }
    UserState.Job job = state.job();
    if (job.taskId() == null) {
      context.getSelf().tell(new UploadLost(job.jobId()));
      return;
    }
    context.getLog().info(
        "user {} job {} task {}: resuming after index {}",
        userId, job.jobId(), job.taskId(), job.lastDelivered());
    deps.jobs()
        .start(
            context,
            new JobLauncher.JobSpec(
                Long.parseLong(userId),
                state.chatId(),
                job.jobId(),
                job.taskId(),
                null,
                null,
                job.lastDelivered(),
                outbox(state.chatId(), state.language())));
  }

  // ---------------------------------------------------------------- commands

  @Override
  public CommandHandlerWithReply<Command, Event, UserState> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, UserState> b = newCommandHandlerWithReplyBuilder();
    b.forAnyState()
        .onCommand(HandleUpdate.class, this::onUpdate)
        .onCommand(FileFetched.class, this::onFileFetched)
        .onCommand(FileNotFetched.class, this::onFileNotFetched)
        .onCommand(GetSummary.class, (s, c) -> Effect().reply(c.replyTo(), summaryOk(s)))
        .onCommand(Credit.class, this::onCredit)
        .onCommand(SetSubscription.class, this::onSetSubscription)
        .onCommand(SetBlocked.class, this::onSetBlocked)
        .onCommand(TaskAccepted.class, this::onTaskAccepted)
        .onCommand(RecordDelivery.class, this::onRecordDelivery)
        .onCommand(TaskSucceeded.class, this::onTaskSucceeded)
        .onCommand(TaskFailed.class, this::onTaskFailed)
        .onCommand(UploadLost.class, this::onUploadLost)
        .onCommand(ChatUnreachable.class, this::onChatUnreachable)
        .onCommand(Wake.class, (s, c) -> Effect().reply(c.replyTo(), s.job() != null))
        .onCommand(Stop.class, this::onStop)
        .onCommand(ReadyToStop.class, (s, c) -> drainOutboxes())
        .onCommand(OutboxDrained.class, this::onOutboxDrained);
    return b.build();
  }

  /** Events to persist and what to do once they are. */
  private final class Plan {
    final List<Event> events = new ArrayList<>();
    final List<Runnable> after = new ArrayList<>();
    UserState state;

    Plan(UserState state) {
      this.state = state;
    }

    Plan persist(Event event) {
      events.add(event);
      state = apply(state, event);
      return this;
    }

    Plan say(String text) {
      return send(Outgoing.Text.plain(text));
    }

    Plan send(Outgoing message) {
      long chatId = state.chatId();
      String language = state.language();
      after.add(() -> outbox(chatId, language).tell(ChatOutbox.Send.of(message)));
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

  private ReplyEffect<Event, UserState> onUpdate(UserState state, HandleUpdate cmd) {
    Inbound u = cmd.update();
    if (state.seen(u.updateId(), deps.user().dedupWindow())) {
      context.getLog().debug("user {}: update {} already handled", userId, u.updateId());
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    Plan plan = new Plan(state);
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
    if (state.unreachable()) {
      long chatId = u.chatId();
      plan.persist(new ChatBecameReachable(deps.clock().instant()))
          .then(() -> outbox(chatId, null).tell(ChatOutbox.Resume.INSTANCE));
    }
    if (u.document() != null && plan.state.stage() == Stage.WAITING_FOR_FILE) {
      return onDocument(plan, u, cmd.replyTo());
    }
    plan.persist(new UpdateAccepted(u.updateId()));
    Texts t = texts(plan.state);
    switch (u.command()) {
      case "/start", "/help" -> plan.say(t.get("help", t.tokens(deps.billing().cvCost())));
      case "/balance" -> plan.say(balanceText(plan.state));
      case "/buy" -> plan.say(t.get("buy"));
      case "/cv" -> onCv(plan);
      case "/cancel" -> onCancel(plan);
      default -> onOther(plan, u);
    }
    context.getLog().info(
        "user {} update {}: {} -> {}", userId, u.updateId(), describe(u), plan.state.stage());
    return plan.reply(cmd.replyTo());
  }

  private void onCv(Plan plan) {
    if (plan.state.stage() == Stage.PROCESSING) {
      cancelJob(plan);
    }
    Account.Denial denial = denial(plan.state);
    Texts t = texts(plan.state);
    if (denial != null) {
      if (plan.state.stage() == Stage.WAITING_FOR_FILE) {
        plan.persist(new FileRequestClosed(deps.clock().instant()));
      }
      plan.say(denialText(t, denial));
      return;
    }
    if (plan.state.stage() == Stage.IDLE) {
      plan.persist(new FileRequested(deps.clock().instant()));
    }
    plan.send(prompt(t));
  }

  private void onCancel(Plan plan) {
    Texts t = texts(plan.state);
    switch (plan.state.stage()) {
      case PROCESSING -> cancelJob(plan);
      case WAITING_FOR_FILE -> plan.persist(new FileRequestClosed(deps.clock().instant()))
          .say(t.get("cancel.done"));
      case IDLE -> plan.say(t.get("cancel.nothing"));
    }
  }

  private void cancelJob(Plan plan) {
    UserState.Job job = plan.state.job();
    long chatId = plan.state.chatId();
    context.getLog().info("user {} job {} task {}: cancelled by user", userId, job.jobId(),
        job.taskId());
    plan.persist(new JobEnded(job.jobId(), JobOutcome.CANCELLED, deps.clock().instant()))
        .then(() -> outbox(chatId, null).tell(new ChatOutbox.DropJob(job.jobId())))
        .then(() -> deps.jobs().cancel(context, job.jobId(), job.taskId()))
        .say(texts(plan.state).get("job.cancelled"));
  }

  private void onOther(Plan plan, Inbound u) {
    Texts t = texts(plan.state);
    switch (plan.state.stage()) {
      case WAITING_FOR_FILE -> plan.say(t.get("file.please-send", t.get("cv.prompt",
          t.tokens(deps.billing().cvCost()))));
      case PROCESSING -> plan.say(t.get("job.busy"));
      case IDLE -> plan.say(u.document() != null ? t.get("file.without-cv") : t.get("unknown"));
    }
  }

  private ReplyEffect<Event, UserState> onDocument(
      Plan plan, Inbound u, ActorRef<StatusReply<Done>> replyTo) {
    long max = deps.maxFileSize();
    if (u.document().size() > max) {
      context.getLog().info("user {} update {}: file refused by reported size {}", userId,
          u.updateId(), u.document().size());
      return plan.persist(new UpdateAccepted(u.updateId()))
          .say(texts(plan.state).get("file.too-large"))
          .reply(replyTo);
    }
    return plan.then(() -> context.pipeToSelf(
            deps.telegram().download(u.document().fileId(), max),
            (bytes, error) -> {
              if (error == null) {
                return new FileFetched(u, bytes, replyTo);
              }
              Throwable cause = error.getCause() != null ? error.getCause() : error;
              boolean tooLarge = cause instanceof TelegramGateway.Failure f && f.code == 413;
              return new FileNotFetched(u, tooLarge, String.valueOf(cause.getMessage()), replyTo);
            }))
        .noReply();
  }

  private ReplyEffect<Event, UserState> onFileNotFetched(UserState state, FileNotFetched cmd) {
    if (state.seen(cmd.update().updateId(), deps.user().dedupWindow())) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    context.getLog().warn("user {} update {}: file download failed: {}", userId,
        cmd.update().updateId(), cmd.reason());
    Texts t = texts(state);
    return new Plan(state)
        .persist(new UpdateAccepted(cmd.update().updateId()))
        .say(cmd.tooLarge() ? t.get("file.too-large") : t.get("file.download-failed"))
        .reply(cmd.replyTo());
  }

  private ReplyEffect<Event, UserState> onFileFetched(UserState state, FileFetched cmd) {
    Inbound u = cmd.update();
    if (state.seen(u.updateId(), deps.user().dedupWindow())) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    Plan plan = new Plan(state).persist(new UpdateAccepted(u.updateId()));
    Texts t = texts(state);
    if (state.stage() != Stage.WAITING_FOR_FILE) {
      if (state.stage() == Stage.PROCESSING) {
        plan.say(t.get("job.busy"));
      }
      return plan.reply(cmd.replyTo());
    }
    CvFile.Verdict verdict = CvFile.check(cmd.content(), deps.maxFileSize());
    context.getLog().info("user {} update {}: file of {} bytes is {}", userId, u.updateId(),
        cmd.content().length, verdict);
    switch (verdict) {
      case EMPTY -> plan.say(t.get("file.empty"));
      case TOO_LARGE -> plan.say(t.get("file.too-large"));
      case INVALID_FORMAT -> plan.say(t.get("file.invalid-format"));
      case PDF, TEXT -> startJob(plan, u, cmd.content());
    }
    return plan.reply(cmd.replyTo());
  }

  private void startJob(Plan plan, Inbound u, byte[] content) {
    Texts t = texts(plan.state);
    Account.Denial denial = denial(plan.state);
    if (denial != null) {
      plan.persist(new FileRequestClosed(deps.clock().instant())).say(denialText(t, denial));
      return;
    }
    String jobId = UUID.randomUUID().toString();
    String fileName = u.document().fileName() == null ? "cv" : u.document().fileName();
    long cost = deps.billing().cvCost();
    plan.persist(new JobStarted(jobId, cost, fileName, deps.clock().instant()))
        .say(t.get("job.analyzing"));
    long chatId = plan.state.chatId();
    String language = plan.state.language();
    plan.then(() -> {
      context.getLog().info("user {} job {}: started, {} reserved", userId, jobId, cost);
      deps.jobs().start(context, new JobLauncher.JobSpec(Long.parseLong(userId), chatId, jobId,
          null, fileName, content, 0, outbox(chatId, language)));
    });
  }

  // ---------------------------------------------------------------- from the task actor

  private ReplyEffect<Event, UserState> onTaskAccepted(UserState state, TaskAccepted cmd) {
    if (!state.hasJob(cmd.jobId()) || state.job().taskId() != null) {
      return Effect().reply(cmd.replyTo(), Done.getInstance());
    }
    context.getLog().info("user {} job {} task {}: accepted by the Runner, queue position {}",
        userId, cmd.jobId(), cmd.taskId(), cmd.queuePosition());
    return Effect()
        .persist(new JobAccepted(cmd.jobId(), cmd.taskId(), cmd.queuePosition()))
        .thenRun(s -> outbox(s.chatId(), s.language()).tell(new ChatOutbox.Send(
            Outgoing.Text.plain(texts(s).get("job.queued", cmd.queuePosition())),
            cmd.jobId(), null)))
        .thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, UserState> onRecordDelivery(UserState state, RecordDelivery cmd) {
    if (!state.hasJob(cmd.jobId()) || cmd.index() <= state.job().lastDelivered()) {
      return Effect().reply(cmd.replyTo(), Done.getInstance());
    }
    context.getLog().debug("user {} job {} task {}: output {} delivered", userId, cmd.jobId(),
        state.job().taskId(), cmd.index());
    return Effect()
        .persist(new OutputDelivered(cmd.jobId(), cmd.index()))
        .thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, UserState> onTaskSucceeded(UserState state, TaskSucceeded cmd) {
    if (!state.hasJob(cmd.jobId())) {
      return Effect().noReply();
    }
    UserState.Job job = state.job();
    String key = "cv_analysis_" + job.taskId();
    long charged = state.account().hasApplied(key) ? 0 : job.cost();
    Texts t = texts(state);
    String text = charged > 0 ? t.get("job.succeeded", t.tokens(charged)) : t.get("job.succeeded-free");
    context.getLog().info("user {} job {} task {}: succeeded, charged {} under {}", userId,
        job.jobId(), job.taskId(), charged, key);
    return new Plan(state)
        .persist(new JobSucceeded(job.jobId(), job.taskId(), charged, key, deps.clock().instant()))
        .say(text)
        .noReply();
  }

  private ReplyEffect<Event, UserState> onTaskFailed(UserState state, TaskFailed cmd) {
    if (!state.hasJob(cmd.jobId())) {
      return Effect().noReply();
    }
    Texts t = texts(state);
    String text =
        switch (cmd.outcome()) {
          case FAILED -> t.get("job.failed", cmd.detail());
          case UPLOAD_FAILED -> t.get("job.upload-failed");
          case TIMED_OUT -> t.get("job.timeout");
          case CANCELLED -> t.get("job.cancelled");
          case UPLOAD_LOST -> t.get("job.lost-upload");
        };
    context.getLog().info("user {} job {} task {}: ended {}, reservation released", userId,
        cmd.jobId(), state.job().taskId(), cmd.outcome());
    return new Plan(state)
        .persist(new JobEnded(cmd.jobId(), cmd.outcome(), deps.clock().instant()))
        .say(text)
        .noReply();
  }

  private ReplyEffect<Event, UserState> onUploadLost(UserState state, UploadLost cmd) {
    if (!state.hasJob(cmd.jobId()) || state.job().taskId() != null) {
      return Effect().noReply();
    }
    return onTaskFailed(state, new TaskFailed(cmd.jobId(), JobOutcome.UPLOAD_LOST, null));
  }

  private ReplyEffect<Event, UserState> onStop(UserState state, Stop stop) {
    ActorRef<Done> ready = context.messageAdapter(Done.class, d -> ReadyToStop.INSTANCE);
    if (state.job() != null && deps.jobs().drain(context, state.job().jobId(), ready)) {
      return Effect().noReply();
    }
    return drainOutboxes();
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

  private ReplyEffect<Event, UserState> onOutboxDrained(UserState state, OutboxDrained drained) {
    return --outboxesDraining > 0 ? Effect().noReply() : Effect().stop().thenNoReply();
  }

  private ReplyEffect<Event, UserState> onChatUnreachable(UserState state, ChatUnreachable cmd) {
    if (state.unreachable()) {
      return Effect().noReply();
    }
    ChatOutbox.Unreachable r = cmd.report();
    context.getLog().warn("user {}: chat {} cannot be reached ({} {})", userId, r.chatId(),
        r.code(), r.reason());
    Plan plan = new Plan(state)
        .persist(new ChatBecameUnreachable(r.code(), r.reason(), deps.clock().instant()));
    UserState.Job job = state.job();
    if (job != null) {
      context.getLog().info("user {} job {} task {}: cancelled, nobody to deliver to", userId,
          job.jobId(), job.taskId());
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
    return StatusReply.success(new Summary(userId, known, s.stage().name().toLowerCase(),
        a.balance(), a.reserved(), a.subscriptionUntil(), a.blocked(), s.unreachable(),
        job == null ? null : job.jobId(), job == null ? null : job.taskId(),
        job == null ? 0 : job.lastDelivered(), List.copyOf(last)));
  }

  // ---------------------------------------------------------------- events

  @Override
  public EventHandler<UserState, Event> eventHandler() {
    return this::apply;
  }

  private UserState apply(UserState s, Event event) {
    if (event instanceof UpdateAccepted e) {
      return s.withUpdate(e.updateId(), deps.user().dedupWindow());
    } else if (event instanceof UserRegistered e) {
      return s.registered(e.chatId(), e.language());
    } else if (event instanceof ChatBecameUnreachable) {
      return s.withUnreachable(true);
    } else if (event instanceof ChatBecameReachable) {
      return s.withUnreachable(false);
    } else if (event instanceof LanguageChanged e) {
      return s.withChat(s.chatId(), e.language());
    } else if (event instanceof FileRequested) {
      return s.withStage(Stage.WAITING_FOR_FILE);
    } else if (event instanceof FileRequestClosed) {
      return s.withStage(Stage.IDLE);
    } else if (event instanceof TokensCredited e) {
      return s.withAccount(s.account().book(e.amount(), e.reason(), e.idempotencyKey(), e.at()));
    } else if (event instanceof SubscriptionSet e) {
      return s.withAccount(s.account().withSubscriptionUntil(e.until()));
    } else if (event instanceof AccountBlocked) {
      return s.withAccount(s.account().withBlocked(true));
    } else if (event instanceof AccountUnblocked) {
      return s.withAccount(s.account().withBlocked(false));
    } else if (event instanceof JobStarted e) {
      return s.withJob(new UserState.Job(e.jobId(), null, e.cost(), 0, e.at()))
          .withAccount(s.account().reserve(e.cost()));
    } else if (!(event instanceof JobAccepted || event instanceof OutputDelivered
        || event instanceof JobSucceeded || event instanceof JobEnded)) {
      throw new IllegalArgumentException("unknown event " + event.getClass().getName());
    }
    return applyJobEvent(s, event);
  }

  private static UserState applyJobEvent(UserState s, Event event) {
    if (s.job() == null) {
      return s;
    }
    UserState.Job job = s.job();
    if (event instanceof JobAccepted e && job.jobId().equals(e.jobId())) {
      return s.withJob(job.accepted(e.taskId()));
    } else if (event instanceof OutputDelivered e && job.jobId().equals(e.jobId())) {
      return s.withJob(job.delivered(e.index()));
    } else if (event instanceof JobSucceeded e && job.jobId().equals(e.jobId())) {
      return s.withJob(null)
          .withAccount(s.account().release(job.cost())
              .book(-e.charged(), "cv_analysis", e.idempotencyKey(), e.at()));
    } else if (event instanceof JobEnded e && job.jobId().equals(e.jobId())) {
      return s.withJob(null).withAccount(s.account().release(job.cost()));
    }
    return s;
  }

  // ---------------------------------------------------------------- helpers

  private Account.Denial denial(UserState s) {
    return s.account().denialFor(deps.billing().cvCost(), deps.billing().requireSubscription(),
        deps.clock().instant());
  }

  private static String denialText(Texts t, Account.Denial denial) {
    return switch (denial) {
      case BLOCKED -> t.get("cv.blocked");
      case SUBSCRIPTION_EXPIRED -> t.get("cv.subscription-expired");
      case INSUFFICIENT_TOKENS -> t.get("cv.insufficient-tokens");
    };
  }

  private Outgoing prompt(Texts t) {
    return new Outgoing.Text(t.get("cv.prompt", t.tokens(deps.billing().cvCost())), "HTML");
  }

  private String balanceText(UserState s) {
    Texts t = texts(s);
    Account a = s.account();
    Instant until = a.subscriptionUntil();
    String sub = until == null ? t.get("subscription.none")
        : until.isAfter(deps.clock().instant()) ? t.get("subscription.active", Texts.date(until))
        : t.get("subscription.expired", Texts.date(until));
    return a.reserved() > 0
        ? t.get("balance.reserved", t.tokens(a.balance()), sub, t.tokens(a.reserved()))
        : t.get("balance", t.tokens(a.balance()), sub);
  }

  private static Texts texts(UserState s) {
    return Texts.of(s.language());
  }

  private static String describe(Inbound u) {
    if (u.document() != null) {
      return "document of " + u.document().size() + " bytes";
    }
    String command = u.command();
    return command.isEmpty() ? (u.text() == null ? "non-text message" : "text")
        : LogSafe.text(command, 64);
  }

  /** The chat's outbox; {@code language} picks the failure notice when it is first created. */
  private ActorRef<ChatOutbox.Command> outbox(long chatId, String language) {
    return outboxes.computeIfAbsent(chatId, id -> {
      ChatOutbox.Deps d = deps.outbox();
      ChatOutbox.Deps withNotice = new ChatOutbox.Deps(d.gateway(), d.limiter(), d.chatRate(),
          d.chatBurst(), d.maxAttempts(), d.minBackoff(), d.maxBackoff(),
          Texts.of(language).get("delivery.failed"));
      ActorRef<ChatOutbox.Unreachable> owner =
          context.messageAdapter(ChatOutbox.Unreachable.class, ChatUnreachable::new);
      return context.spawn(ChatOutbox.create(id, withNotice, owner), "outbox-" + id);
    });
  }
}
