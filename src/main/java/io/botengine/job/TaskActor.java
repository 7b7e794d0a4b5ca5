package io.botengine.job;

import static net.logstash.logback.argument.StructuredArguments.value;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.BehaviorBuilder;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.stream.KillSwitch;
import akka.stream.KillSwitches;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSink;
import io.botengine.LogFields;
import io.botengine.WebEvents;
import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Outgoing;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The task of one job, a child of its user actor, to which it reports ({@link Report}). It lives
 * through these phases, one behaviour each: {@code uploading} the file (skipped when resuming),
 * {@code awaitingAcceptance} until the parent recorded the Runner's task id, {@code streaming} the
 * Runner's events with back-pressure (or {@code polling} when the stream cannot be had), {@code
 * finishing} the outputs still waiting once the final frame came, and {@code stopping}: it stops
 * only after its stream has ended, so nothing the stream sends reaches a stopped actor. On {@link
 * Drain} it records the output in flight and stops without ending the job; on {@link Cancel} it
 * cancels the Runner task and stops. Outputs go to the chat outbox strictly in index order, one at
 * a time ({@link ReorderBuffer}): the next frame is pulled only after Telegram took the previous
 * output and the parent recorded its index. Progress frames become one status message ({@link
 * ProgressDisplay}); the deltas of a streamed output are shown while they arrive ({@link
 * LivePreview}), never holding the stream back. All its time is timers, so tests drive it with
 * manual time.
 */
public final class TaskActor {

  /** What a task reports to its parent (the user actor), which adapts it to its own protocol. */
  public sealed interface Report {}

  /** The Runner accepted the upload as {@code taskId}; answer once that is recorded. */
  public record Accepted(String jobId, String taskId, int queuePosition, ActorRef<Done> replyTo)
      implements Report {}

  /** Output {@code index} reached Telegram; answer once that is recorded. */
  public record Delivered(String jobId, long index, String eventId, ActorRef<Done> replyTo)
      implements Report {
    public Delivered(String jobId, long index, ActorRef<Done> replyTo) {
      this(jobId, index, null, replyTo);
    }
  }

  /**
   * An edit-mode preview of output {@code index} was sent as message {@code messageId}; recorded
   * (best effort, no answer) so that a task resuming after a crash finishes or deletes it.
   */
  public record PreviewShown(String jobId, long index, long messageId) implements Report {}

  /**
   * The job's status message (⏳ progress) was sent as {@code messageId}; recorded (best effort, no
   * answer) so that it is removed after a crash instead of staying in the chat.
   */
  public record StatusShown(String jobId, long messageId) implements Report {}

  /**
   * The Runner reported success and no output it sent was dropped: the job is charged. (A success
   * with dropped outputs is reported as {@link Failed} with {@link JobOutcome#INCOMPLETE}.)
   */
  public record Succeeded(String jobId) implements Report {}

  /**
   * The job ended without success; {@code detail} is the Runner's error text ({@code FAILED}) or
   * the {@link RunnerFailure#label()} of the cause ({@code UPLOAD_FAILED}, {@code TIMED_OUT}).
   */
  public record Failed(String jobId, JobOutcome outcome, String detail) implements Report {}

  /** What a task actor is told. */
  public sealed interface Command {}

  /** Stop the job: cancel it on the Runner, stop reading, send nothing more. */
  public enum Cancel implements Command {
    INSTANCE
  }

  /**
   * The node is handing the user over: finish recording the output in flight, pull nothing more,
   * and stop without ending the job (it resumes where the user actor starts next).
   */
  public record Drain(ActorRef<Done> replyTo) implements Command {}

  private record Uploaded(RunnerClient.Upload upload) implements Command {}

  private record UploadRefused(Throwable error) implements Command {}

  private record AcceptedByParent() implements Command {}

  private record AcceptanceUnconfirmed() implements Command {}

  private record StreamStarted(ActorRef<Ack> ack) implements Command {}

  private record FrameArrived(RunnerFrame frame, ActorRef<Ack> ack) implements Command {}

  private record StreamEnded() implements Command {}

  private record StreamFailed(Throwable error) implements Command {}

  private record OutputSent() implements Command {}

  private record Recorded(long index, boolean ok) implements Command {}

  private record StatusCreated(long messageId) implements Command {}

  private record PreviewCallDone(Outgoing call, long result) implements Command {}

  private enum PreviewRested implements Command {
    INSTANCE
  }

  private enum PreviewRefresh implements Command {
    INSTANCE
  }

  private enum GapTimeout implements Command {
    INSTANCE
  }

  private enum TypingTick implements Command {
    INSTANCE
  }

  private enum ProgressRested implements Command {
    INSTANCE
  }

  private enum StreamEndOverdue implements Command {
    INSTANCE
  }

  /** Back-pressure signal to the stream: pull the next frame. */
  enum Ack {
    INSTANCE
  }

  /** What a task asks of the Runner; {@link #of(RunnerClient)} in production, fakes in tests. */
  public interface Runner {
    CompletionStage<RunnerClient.Upload> upload(long userId, String fileName, byte[] content);

    /**
     * As {@link #upload(long, String, byte[])}, with a key the Runner may use to return the task
     * it made for an earlier upload of the same job (an upload repeated after a crash).
     */
    default CompletionStage<RunnerClient.Upload> upload(
        long userId, String fileName, byte[] content, String idempotencyKey) {
      return upload(userId, fileName, content);
    }

    /** The task's events; the source completes after a final frame, or when it is killed. */
    Source<RunnerFrame, ? extends KillSwitch> stream(String taskId);

    /**
     * As {@link #stream(String)}, resuming after the SSE id {@code lastEventId} (null: from the
     * start): a Runner that sends only new events to a new connection loses nothing.
     */
    default Source<RunnerFrame, ? extends KillSwitch> stream(String taskId, String lastEventId) {
      return stream(taskId);
    }

    /** The task's final frames, found by polling its status; killed like {@link #stream}. */
    Source<RunnerFrame, ? extends KillSwitch> poll(String taskId);

    /** Cancels the task, best effort. */
    void cancel(String taskId);

    static Runner of(RunnerClient client) {
      return new Runner() {
        @Override
        public CompletionStage<RunnerClient.Upload> upload(
            long userId, String fileName, byte[] content) {
          return client.upload(userId, fileName, content, null);
        }

        @Override
        public CompletionStage<RunnerClient.Upload> upload(
            long userId, String fileName, byte[] content, String idempotencyKey) {
          return client.upload(userId, fileName, content, idempotencyKey);
        }

        @Override
        public Source<RunnerFrame, KillSwitch> stream(String taskId) {
          return client.stream(taskId, Optional.empty());
        }

        @Override
        public Source<RunnerFrame, KillSwitch> stream(String taskId, String lastEventId) {
          return client.stream(taskId, Optional.ofNullable(lastEventId));
        }

        @Override
        public Source<RunnerFrame, UniqueKillSwitch> poll(String taskId) {
          return client.poll(taskId).viaMat(KillSwitches.single(), Keep.right());
        }

        @Override
        public void cancel(String taskId) {
          client.cancel(taskId);
        }
      };
    }
  }

  /** What every task of this node shares. */
  public record Deps(
      Runner runner,
      ActorRef<JobRegistry.Command> registry,
      int reorderBuffer,
      Duration gapTimeout,
      Duration typingInterval,
      Duration progressInterval,
      Duration askTimeout,
      LivePreview.Settings preview) {
    /** Without live previews: deltas are ignored. */
    public Deps(Runner runner, ActorRef<JobRegistry.Command> registry, int reorderBuffer,
        Duration gapTimeout, Duration typingInterval, Duration progressInterval,
        Duration askTimeout) {
      this(runner, registry, reorderBuffer, gapTimeout, typingInterval, progressInterval,
          askTimeout, LivePreview.Settings.OFF);
    }
  }

  /**
   * How long a preview call may wait in the outbox before the next one may be queued (a call the
   * outbox drops or refuses is answered at once).
   */
  private static final Duration PREVIEW_CALL_TIMEOUT = Duration.ofSeconds(30);

  /**
   * The level of this class's lines, checked before a per-output DEBUG line: {@code getLog()} sets
   * the actor's MDC, and the line's arguments are built, even when DEBUG is off.
   */
  private static final org.slf4j.Logger LEVEL = org.slf4j.LoggerFactory.getLogger(TaskActor.class);

  /** How long a stopping task waits for its stream to report its end (it always does at once). */
  private static final Duration STREAM_END_GRACE = Duration.ofSeconds(5);

  public static Behavior<Command> create(
      JobLauncher.JobSpec spec, ActorRef<Report> parent, Deps deps) {
    // Akka keeps the behaviour an actor was created with for as long as the actor lives (to
    // restart it), so it must not hold the file: up to 1 MB per running job. The upload takes it
    // out of this holder and lets go of it once the request is made.
    AtomicReference<byte[]> content = new AtomicReference<>(spec.content());
    JobLauncher.JobSpec withoutFile = spec.withoutContent();
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new TaskActor(ctx, timers, withoutFile, parent, deps)
                    .start(content.getAndSet(null))));
  }

  /** The stream being read: its kill switch, and the ack that pulls its next frame. */
  private static final class Reader {
    final KillSwitch killSwitch;
    final boolean polling;
    ActorRef<Ack> held;
    boolean ended;

    Reader(KillSwitch killSwitch, boolean polling) {
      this.killSwitch = killSwitch;
      this.polling = polling;
    }

    void pull() {
      if (held != null) {
        held.tell(Ack.INSTANCE);
        held = null;
      }
    }
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final JobLauncher.JobSpec spec;
  private final ActorRef<Report> parent;
  private final Deps deps;
  private final ActorRef<Done> outboxAck;
  private final ActorRef<Long> statusIds;
  private final ReorderBuffer outputs;
  private final ProgressDisplay progress = new ProgressDisplay();
  private final OutputTiming timing;
  /** The SSE id of the output in flight (null without one). */
  private String inFlightEventId;
  private final LivePreview preview;
  /** The Runner's id of the task: set once, when the Runner accepted the upload. */
  private String taskId;

  private TaskActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      JobLauncher.JobSpec spec,
      ActorRef<Report> parent,
      Deps deps) {
    this.ctx = ctx;
    this.timers = timers;
    this.spec = spec;
    this.parent = parent;
    this.deps = deps;
    this.taskId = spec.taskId();
    this.outputs = new ReorderBuffer(spec.lastDelivered(), deps.reorderBuffer());
    this.preview = new LivePreview(deps.preview().mode(), spec.jobId(), spec.lastDelivered());
    if (spec.previewMessageId() != 0) {
      preview.adopt(spec.previewIndex(), spec.previewMessageId());
    }
    this.outboxAck = ctx.messageAdapter(Done.class, d -> new OutputSent());
    this.statusIds = ctx.messageAdapter(Long.class, StatusCreated::new);
    this.timing = new OutputTiming(io.botengine.Metrics.get(ctx.getSystem()));
  }

  private Behavior<Command> start(byte[] content) {
    if (taskId != null) {
      log("resuming stream after index {}", outputs.lastDelivered());
      return firstRead();
    }
    ctx.pipeToSelf(
        deps.runner().upload(spec.userId(), spec.fileName(), content, spec.jobId()),
        (upload, error) -> error == null ? new Uploaded(upload) : new UploadRefused(error));
    return uploading(null);
  }

  // ------------------------------------------------------------------ uploading

  /** The file is on its way to the Runner; {@code drainTo} is set once a drain was asked. */
  private Behavior<Command> uploading(ActorRef<Done> drainTo) {
    return Behaviors.receive(Command.class)
        .onMessage(Uploaded.class, u -> onUploaded(u, drainTo))
        .onMessage(UploadRefused.class, r -> onUploadRefused(r, drainTo))
        .onMessageEquals(Cancel.INSTANCE, this::onCancelDuringUpload)
        .onMessage(Drain.class, d -> uploading(d.replyTo()))
        .build();
  }

  private Behavior<Command> onUploaded(Uploaded uploaded, ActorRef<Done> drainTo) {
    taskId = uploaded.upload().taskId();
    log("uploaded, queue position {}", uploaded.upload().queuePosition());
    askAccepted(uploaded.upload().queuePosition());
    return awaitingAcceptance(uploaded.upload().queuePosition(), drainTo);
  }

  private Behavior<Command> onUploadRefused(UploadRefused refused, ActorRef<Done> drainTo) {
    ctx.getLog().warn("user {} job {}: upload failed: {}", spec.userId(), spec.jobId(),
        describe(refused.error()));
    end(new Failed(spec.jobId(), JobOutcome.UPLOAD_FAILED,
        RunnerFailure.of(refused.error()).label()));
    if (drainTo != null) {
      drainTo.tell(Done.getInstance());
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onCancelDuringUpload() {
    log("cancel requested during upload{}", "");
    return Behaviors.receive(Command.class)
        .onMessage(Uploaded.class, u -> {
          deps.runner().cancel(u.upload().taskId());
          return Behaviors.stopped();
        })
        .onMessage(UploadRefused.class, r -> Behaviors.stopped())
        .onMessageEquals(Cancel.INSTANCE, Behaviors::same)
        .onMessage(Drain.class, d -> {
          d.replyTo().tell(Done.getInstance());
          return Behaviors.stopped();
        })
        .build();
  }

  // ------------------------------------------------------------------ awaiting acceptance

  /** The parent is recording the Runner's task id; the stream is read once it has. */
  private Behavior<Command> awaitingAcceptance(int queuePosition, ActorRef<Done> drainTo) {
    return Behaviors.receive(Command.class)
        .onMessage(AcceptedByParent.class, a -> drainTo != null ? handedOver(null, drainTo)
            : firstRead())
        .onMessage(AcceptanceUnconfirmed.class, a -> {
          askAccepted(queuePosition);
          return Behaviors.same();
        })
        .onMessageEquals(Cancel.INSTANCE, () -> onCancel(null))
        .onMessage(Drain.class, d -> awaitingAcceptance(queuePosition, d.replyTo()))
        .build();
  }

  private void askAccepted(int queuePosition) {
    String id = taskId;
    ctx.ask(
        Done.class,
        parent,
        deps.askTimeout(),
        ref -> new Accepted(spec.jobId(), id, queuePosition, ref),
        (done, error) -> error == null ? new AcceptedByParent() : new AcceptanceUnconfirmed());
  }

  // ------------------------------------------------------------------ streaming, polling

  private Behavior<Command> firstRead() {
    onTypingTick();
    timers.startTimerWithFixedDelay(TypingTick.INSTANCE, deps.typingInterval());
    return streaming(read(false));
  }

  private Reader read(boolean polling) {
    Source<RunnerFrame, ? extends KillSwitch> frames =
        polling ? deps.runner().poll(taskId) : deps.runner().stream(taskId, spec.lastEventId());
    KillSwitch killSwitch =
        frames
            .toMat(
                ActorSink.<RunnerFrame, Command, Ack>actorRefWithBackpressure(
                    ctx.getSelf(),
                    (ack, frame) -> new FrameArrived(frame, ack),
                    StreamStarted::new,
                    Ack.INSTANCE,
                    new StreamEnded(),
                    StreamFailed::new),
                Keep.left())
            .run(ctx.getSystem());
    return new Reader(killSwitch, polling);
  }

  /** The Runner's event stream is read; when it cannot be had, the task polls instead. */
  private Behavior<Command> streaming(Reader reader) {
    return reading(reader)
        .onMessage(StreamEnded.class, e -> onStreamBroken(reader, null))
        .onMessage(StreamFailed.class, f -> onStreamBroken(reader, f.error()))
        .build();
  }

  /** The Runner's status is polled; its end without a final frame is a timeout. */
  private Behavior<Command> polling(Reader reader) {
    return reading(reader)
        .onMessage(StreamEnded.class, e -> onTimedOut(reader, null))
        .onMessage(StreamFailed.class, f -> onTimedOut(reader, f.error()))
        .build();
  }

  private BehaviorBuilder<Command> reading(Reader reader) {
    return Behaviors.receive(Command.class)
        .onMessage(StreamStarted.class, s -> {
          s.ack().tell(Ack.INSTANCE);
          return Behaviors.same();
        })
        .onMessage(FrameArrived.class, f -> onFrame(reader, f))
        .onMessage(OutputSent.class, s -> onOutputSent())
        .onMessage(Recorded.class, r -> onRecorded(r, () -> deliverNext(reader)))
        .onMessageEquals(GapTimeout.INSTANCE, () -> {
          outputs.giveUpGap();
          return deliverNext(reader);
        })
        .onMessageEquals(TypingTick.INSTANCE, this::onTypingTick)
        .onMessageEquals(ProgressRested.INSTANCE, () -> show(progress.rested()))
        .onMessage(StatusCreated.class, this::onStatusCreated)
        .onMessage(PreviewCallDone.class, this::onPreviewCallDone)
        .onMessageEquals(PreviewRested.INSTANCE, () -> preview(preview.rested(showable())))
        .onMessageEquals(PreviewRefresh.INSTANCE, () -> preview(preview.refresh(showable())))
        .onMessageEquals(Cancel.INSTANCE, () -> onCancel(reader))
        .onMessage(Drain.class, d -> onDrain(reader, d));
  }

  private Behavior<Command> onFrame(Reader reader, FrameArrived arrived) {
    reader.held = arrived.ack();
    RunnerFrame frame = arrived.frame();
    if (frame instanceof RunnerFrame.Progress p) {
      WebEvents.get(ctx.getSystem()).progress(spec.userId(), spec.jobId(), p.percent(), p.text());
      show(progress.progress(p));
    } else if (frame instanceof RunnerFrame.Reconnected) {
      preview.reconnected();
    } else if (frame instanceof RunnerFrame.Delta d) {
      offerOrphan(d.index());
      preview(preview.delta(d, showable()));
    } else if (frame instanceof RunnerFrame.Output o) {
      if (o.index() != null) {
        offerOrphan(o.index());
        preview.close(o.index());
      }
      ReorderBuffer.Offer offer = outputs.offer(o);
      timing.received(offer.index());
      if (offer.verdict() == ReorderBuffer.Verdict.REPEATED) {
        ctx.getLog().debug("user {} job {}: output {} again, dropped", spec.userId(),
            spec.jobId(), offer.index());
      } else if (offer.verdict() == ReorderBuffer.Verdict.BEYOND_WINDOW) {
        ctx.getLog().warn("user {} job {} task {}: output {} is more than {} past the outputs so"
            + " far, a Runner fault: dropped, and the job will not be charged", spec.userId(),
            spec.jobId(), taskId, offer.index(), deps.reorderBuffer());
      }
    } else if (frame.terminal()) {
      if (frame instanceof RunnerFrame.Completed) {
        offerOrphan(Long.MAX_VALUE);
      }
      return finishing(reader, frame);
    }
    return deliverNext(reader);
  }

  /** The stream moved past a previewed output without its complete frame: the deltas are it. */
  private void offerOrphan(long later) {
    preview.orphan(later).ifPresent(orphan -> {
      log("output {} never came complete: its deltas are the output", orphan.index());
      outputs.offer(orphan);
    });
  }

  /** Sends the next output if one may go; otherwise pulls the next frame. */
  private Behavior<Command> deliverNext(Reader reader) {
    if (outputs.inFlight()) {
      return Behaviors.same();
    }
    Optional<ReorderBuffer.Next> next = outputs.next(false);
    if (next.isPresent()) {
      send(next.get());
      return Behaviors.same();
    }
    if (outputs.waitingForGap() && !timers.isTimerActive(GapTimeout.INSTANCE)) {
      timers.startSingleTimer(GapTimeout.INSTANCE, deps.gapTimeout());
    }
    preview(preview.resume(showable()));
    reader.pull();
    return Behaviors.same();
  }

  private void send(ReorderBuffer.Next next) {
    timers.cancel(GapTimeout.INSTANCE);
    timers.cancel(TypingTick.INSTANCE);
    if (next.skipsGap()) {
      ctx.getLog().warn("user {} job {} task {}: outputs {}..{} never arrived, moving on",
          spec.userId(), spec.jobId(), taskId, next.skippedFrom(), next.index() - 1);
    }
    inFlightEventId = next.output().eventId();
    List<Outgoing> parts = preview.finalParts(next.index(), OutputRenderer.render(next.output()));
    WebEvents.get(ctx.getSystem()).output(spec.userId(), spec.jobId(), next.index(),
        next.output().kind().name(), next.output().content(), next.output().fileName(),
        next.output().caption());
    if (parts.isEmpty()) {
      onOutputSent();
      return;
    }
    for (int i = 0; i < parts.size(); i++) {
      ActorRef<Done> ack = i == parts.size() - 1 ? outboxAck : null;
      spec.outbox().tell(new ChatOutbox.Send(parts.get(i), spec.jobId(), ack));
    }
  }

  private Behavior<Command> onOutputSent() {
    long index = outputs.inFlightIndex();
    timing.delivered(index);
    ctx.ask(
        Done.class,
        parent,
        deps.askTimeout(),
        ref -> new Delivered(spec.jobId(), index, resumeId(), ref),
        (done, error) -> new Recorded(index, error == null));
    return Behaviors.same();
  }

  /**
   * Where a resumed stream may start: after the SSE id of the output in flight, but only when no
   * later output arrived meanwhile (one waiting behind a gap would be skipped by the resume).
   */
  private String resumeId() {
    return outputs.nothingWaiting() ? inFlightEventId : null;
  }

  private Behavior<Command> onRecorded(Recorded recorded, Supplier<Behavior<Command>> then) {
    if (!recorded.ok()) {
      return onOutputSent();
    }
    // DEBUG: at INFO every output cost two log lines (here and in the user actor); the job's
    // own lines (started, accepted, completed after N outputs) stay at INFO.
    if (LEVEL.isDebugEnabled()) {
      ctx.getLog().debug("user {} job {} task {}: output {} delivered", spec.userId(),
          spec.jobId(), value(LogFields.TASK_ID, taskId),
          value(LogFields.OUTPUT_INDEX, recorded.index()));
    }
    outputs.delivered(recorded.index());
    return then.get();
  }

  private Behavior<Command> onStreamBroken(Reader reader, Throwable error) {
    reader.ended = true;
    if (error instanceof RunnerException.StreamIdle
        || error instanceof RunnerException.PollTimeout) {
      return onTimedOut(reader, error);
    }
    ctx.getLog().warn("user {} job {} task {}: stream unavailable ({}), polling instead",
        spec.userId(), spec.jobId(), taskId, describe(error));
    return polling(read(true));
  }

  private Behavior<Command> onTimedOut(Reader reader, Throwable error) {
    reader.ended = true;
    ctx.getLog().warn("user {} job {} task {}: timed out ({})", spec.userId(), spec.jobId(),
        taskId, describe(error));
    end(new Failed(spec.jobId(), JobOutcome.TIMED_OUT, RunnerFailure.of(error).label()));
    return stopping(reader, null);
  }

  // ------------------------------------------------------------------ live preview

  private Behavior<Command> onPreviewCallDone(PreviewCallDone done) {
    List<Outgoing> next = preview.callDone(done.call(), done.result(), showable());
    preview.takeCreated().ifPresent(created ->
        parent.tell(new PreviewShown(spec.jobId(), created.index(), created.messageId())));
    return preview(next);
  }

  /** The index whose preview may be shown now: the next to deliver, while none is in flight. */
  private long showable() {
    return outputs.inFlight() ? -1 : outputs.lastDelivered() + 1;
  }

  /**
   * Sends the preview's calls, each answered on its own (so a slow chat coalesces more per call),
   * and times its rest and the refresh of its draft.
   */
  private Behavior<Command> preview(List<Outgoing> calls) {
    for (Outgoing call : calls) {
      ctx.ask(Long.class, spec.outbox(), PREVIEW_CALL_TIMEOUT,
          ref -> new ChatOutbox.Send(call, spec.jobId(), null, ref),
          (id, error) -> new PreviewCallDone(call, error == null ? id : ChatOutbox.NOT_SENT));
      if (call instanceof Outgoing.Draft draft) {
        timers.startSingleTimer(PreviewRefresh.INSTANCE, deps.preview().draftRefresh());
        WebEvents.get(ctx.getSystem()).preview(spec.userId(), spec.jobId(), showable(),
            draft.text());
      } else if (call instanceof Outgoing.Edit edit) {
        WebEvents.get(ctx.getSystem()).preview(spec.userId(), spec.jobId(), showable(),
            edit.text());
      }
    }
    if (!calls.isEmpty()) {
      timers.cancel(TypingTick.INSTANCE);
    }
    if (preview.resting() && !timers.isTimerActive(PreviewRested.INSTANCE)) {
      timers.startSingleTimer(PreviewRested.INSTANCE, deps.preview().interval(preview.mode()));
    }
    return Behaviors.same();
  }

  // ------------------------------------------------------------------ progress display

  private Behavior<Command> onTypingTick() {
    spec.outbox().tell(new ChatOutbox.Send(new Outgoing.Typing(), spec.jobId(), null));
    return Behaviors.same();
  }

  /** Sends what the display asks for, and times its rest. */
  private Behavior<Command> show(Optional<Outgoing> change) {
    change.ifPresent(message -> spec.outbox().tell(
        message instanceof Outgoing.Text
            ? new ChatOutbox.Send(message, spec.jobId(), null, statusIds)
            : new ChatOutbox.Send(message, spec.jobId(), null)));
    if (progress.resting() && !timers.isTimerActive(ProgressRested.INSTANCE)) {
      timers.startSingleTimer(ProgressRested.INSTANCE, deps.progressInterval());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onStatusCreated(StatusCreated created) {
    if (created.messageId() < 0) {
      return Behaviors.same();
    }
    parent.tell(new StatusShown(spec.jobId(), created.messageId()));
    return show(progress.created(created.messageId()));
  }

  /**
   * The status message was created as the task ended: nobody recorded it, so it goes now.
   */
  private Behavior<Command> onStatusCreatedTooLate(StatusCreated created) {
    if (created.messageId() >= 0) {
      spec.outbox().tell(ChatOutbox.Send.of(new Outgoing.Delete(created.messageId())));
    }
    return Behaviors.same();
  }

  /**
   * An edit-mode preview goes when the task does (a draft simply ends); untagged, so a dropped job
   * still removes it. The status message is not the task's to remove: it was reported ({@link
   * StatusShown}), and the parent removes it with the job's end, durably, so that a crash right
   * after the end does not leave it in the chat.
   */
  private void endPreview() {
    preview.end().forEach(delete -> spec.outbox().tell(ChatOutbox.Send.of(delete)));
  }

  // ------------------------------------------------------------------ finishing

  /** The final frame came: the outputs still waiting go (gaps skipped), then the job ends. */
  private Behavior<Command> finishing(Reader reader, RunnerFrame terminal) {
    timers.cancel(GapTimeout.INSTANCE);
    Behavior<Command> finishing =
        Behaviors.receive(Command.class)
            .onMessage(OutputSent.class, s -> onOutputSent())
            .onMessage(
                Recorded.class,
                r -> onRecorded(r, () -> flush(reader, terminal, Behaviors.same())))
            .onMessageEquals(TypingTick.INSTANCE, this::onTypingTick)
            .onMessageEquals(ProgressRested.INSTANCE, () -> show(progress.rested()))
            .onMessage(StatusCreated.class, this::onStatusCreated)
            .onMessage(PreviewCallDone.class, d -> preview(preview.callDone(d.call(), d.result(),
                -1)))
            .onMessageEquals(PreviewRested.INSTANCE, () -> preview(preview.rested(-1)))
            .onMessageEquals(PreviewRefresh.INSTANCE, Behaviors::same)
            .onMessage(StreamEnded.class, e -> streamEnded(reader))
            .onMessage(StreamFailed.class, f -> streamEnded(reader))
            .onMessageEquals(Cancel.INSTANCE, () -> onCancel(reader))
            .onMessage(Drain.class, d -> onDrain(reader, d))
            .onMessageEquals(GapTimeout.INSTANCE, Behaviors::same)
            .build();
    return flush(reader, terminal, finishing);
  }

  /** Sends the next waiting output and stays {@code waiting}, or ends the job once none is left. */
  private Behavior<Command> flush(
      Reader reader, RunnerFrame terminal, Behavior<Command> waiting) {
    if (outputs.inFlight()) {
      return waiting;
    }
    Optional<ReorderBuffer.Next> next = outputs.next(true);
    if (next.isPresent()) {
      send(next.get());
      return waiting;
    }
    return finish(reader, terminal);
  }

  private Behavior<Command> streamEnded(Reader reader) {
    reader.ended = true;
    return Behaviors.same();
  }

  private Behavior<Command> finish(Reader reader, RunnerFrame frame) {
    if (frame instanceof RunnerFrame.Completed && outputs.dropped() > 0) {
      ctx.getLog().warn("user {} job {} task {}: completed, but {} outputs beyond the reorder"
          + " window were dropped: not charged", spec.userId(), spec.jobId(), taskId,
          outputs.dropped());
      end(new Failed(spec.jobId(), JobOutcome.INCOMPLETE, null));
    } else if (frame instanceof RunnerFrame.Completed) {
      log("completed after {} outputs", outputs.lastDelivered());
      end(new Succeeded(spec.jobId()));
    } else if (frame instanceof RunnerFrame.Failed f) {
      log("failed: {}", f.message());
      end(new Failed(spec.jobId(), JobOutcome.FAILED, f.message()));
    } else {
      log("cancelled by the Runner{}", "");
      end(new Failed(spec.jobId(), JobOutcome.CANCELLED, null));
    }
    return stopping(reader, null);
  }

  // ------------------------------------------------------------------ draining, cancel, end

  private Behavior<Command> onDrain(Reader reader, Drain drain) {
    if (!outputs.inFlight()) {
      return handedOver(reader, drain.replyTo());
    }
    return Behaviors.receive(Command.class)
        .onMessage(OutputSent.class, s -> onOutputSent())
        .onMessage(Recorded.class, r -> onRecorded(r, () -> handedOver(reader, drain.replyTo())))
        .onMessage(PreviewCallDone.class, this::onPreviewCallDone)
        .onMessage(FrameArrived.class, f -> {
          reader.held = f.ack();
          return Behaviors.same();
        })
        .onMessage(StreamEnded.class, e -> streamEnded(reader))
        .onMessage(StreamFailed.class, f -> streamEnded(reader))
        .onMessageEquals(Cancel.INSTANCE, () -> onCancel(reader))
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  /**
   * Stops without ending the job: it resumes wherever the user actor starts next. An edit-mode
   * preview message stays: it was recorded, and the next task finishes it.
   */
  private Behavior<Command> handedOver(Reader reader, ActorRef<Done> replyTo) {
    log("handed over after index {}", outputs.lastDelivered());
    return stopping(reader, replyTo);
  }

  private Behavior<Command> onCancel(Reader reader) {
    log("cancelled by the user{}", "");
    endPreview();
    deps.runner().cancel(taskId);
    deps.registry().tell(new JobRegistry.Finished(spec.userId(), spec.jobId()));
    return stopping(reader, null);
  }

  private void end(Report report) {
    endPreview();
    parent.tell(report);
    deps.registry().tell(new JobRegistry.Finished(spec.userId(), spec.jobId()));
  }

  /**
   * Closes the stream and stops once it reported its end (frames it still holds are acked and
   * ignored), then tells {@code replyTo}, if any. The stream's last message must not reach a
   * stopped actor: it would be logged as a dead letter at every job's end.
   */
  private Behavior<Command> stopping(Reader reader, ActorRef<Done> replyTo) {
    if (reader == null || reader.ended) {
      return stopNow(replyTo);
    }
    reader.killSwitch.shutdown();
    reader.pull();
    timers.startSingleTimer(StreamEndOverdue.INSTANCE, STREAM_END_GRACE);
    return Behaviors.receive(Command.class)
        .onMessage(StreamStarted.class, s -> {
          s.ack().tell(Ack.INSTANCE);
          return Behaviors.same();
        })
        .onMessage(StatusCreated.class, this::onStatusCreatedTooLate)
        .onMessage(FrameArrived.class, f -> {
          f.ack().tell(Ack.INSTANCE);
          return Behaviors.same();
        })
        .onMessage(StreamEnded.class, e -> stopNow(replyTo))
        .onMessage(StreamFailed.class, f -> stopNow(replyTo))
        .onMessageEquals(StreamEndOverdue.INSTANCE, () -> {
          ctx.getLog().warn("user {} job {} task {}: the stream did not report its end",
              spec.userId(), spec.jobId(), taskId);
          return stopNow(replyTo);
        })
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private static Behavior<Command> stopNow(ActorRef<Done> replyTo) {
    if (replyTo != null) {
      replyTo.tell(Done.getInstance());
    }
    return Behaviors.stopped();
  }

  private void log(String what, Object arg) {
    ctx.getLog().info("user {} job {} task {}: " + what, spec.userId(), spec.jobId(),
        value(LogFields.TASK_ID, taskId), arg);
  }

  private static String describe(Throwable error) {
    return error == null ? "stream ended without a final frame"
        : error.getClass().getSimpleName() + ": " + error.getMessage();
  }
}
