package io.botengine.job;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.stream.KillSwitches;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSink;
import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Outgoing;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The task of one job, a child of its user actor. It uploads the file (unless resuming), reads the
 * Runner's event stream with back-pressure and relays outputs to the chat outbox strictly in index
 * order, one at a time: the next frame is pulled only after Telegram took the previous output and
 * the user actor persisted its index. Duplicates are dropped, early outputs wait in a bounded
 * buffer. When the stream cannot be had it polls instead. It reports the job's end to the user
 * actor and stops; on {@link Cancel} it cancels the Runner task and stops at once.
 */
public final class TaskActor extends AbstractBehavior<TaskActor.Command> {

  /** What a task reports to its parent (the user actor), which adapts it to its own protocol. */
  public sealed interface Report {}

  /** The Runner accepted the upload as {@code taskId}; answer once that is recorded. */
  public record Accepted(String jobId, String taskId, int queuePosition, ActorRef<Done> replyTo)
      implements Report {}

  /** Output {@code index} reached Telegram; answer once that is recorded. */
  public record Delivered(String jobId, long index, ActorRef<Done> replyTo) implements Report {}

  /** The Runner reported success. */
  public record Succeeded(String jobId) implements Report {}

  /** The job ended without success; {@code detail} is the Runner's error text, if any. */
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

  private record AcceptedByUser(String taskId) implements Command {}

  private record StreamStarted(ActorRef<Ack> ack) implements Command {}

  private record FrameArrived(RunnerFrame frame, ActorRef<Ack> ack) implements Command {}

  private record StreamEnded() implements Command {}

  private record StreamFailed(Throwable error) implements Command {}

  private record OutputSent() implements Command {}

  private record Recorded(long index, boolean ok) implements Command {}

  private enum GapTimeout implements Command {
    INSTANCE
  }

  private enum TypingTick implements Command {
    INSTANCE
  }

  private enum ProgressFlush implements Command {
    INSTANCE
  }

  private record StatusCreated(long messageId) implements Command {}

  /** Back-pressure signal to the stream: pull the next frame. */
  enum Ack {
    INSTANCE
  }

  /** What every task of this node shares. */
  public record Deps(
      RunnerClient runner,
      ActorRef<JobRegistry.Command> registry,
      int reorderBuffer,
      Duration gapTimeout,
      Duration typingInterval,
      Duration progressInterval,
      Duration askTimeout) {}

  public static Behavior<Command> create(
      JobLauncher.JobSpec spec, ActorRef<Report> user, Deps deps) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new TaskActor(ctx, timers, spec, user, deps).start()));
  }

  private final JobLauncher.JobSpec spec;
  private final ActorRef<Report> user;
  private final Deps deps;
  private final ActorRef<Done> outboxAck;
  private final TimerScheduler<Command> timers;
  private boolean gapExpired;
  private ActorRef<Done> draining;
  private final ActorRef<Long> statusIds;
  private boolean outputsStarted;
  private boolean statusPending;
  private Long statusId;
  private String statusShown;
  private String statusWanted;
  private long statusEditedAt;
  private final TreeMap<Long, RunnerFrame.Output> buffer = new TreeMap<>();
  private String taskId;
  private long lastDelivered;
  private long arrivals;
  private boolean polling;
  private boolean cancelled;
  private UniqueKillSwitch killSwitch;
  private ActorRef<Ack> pendingAck;
  private Map.Entry<Long, RunnerFrame.Output> delivering;
  private RunnerFrame terminal;

  private TaskActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      JobLauncher.JobSpec spec,
      ActorRef<Report> user,
      Deps deps) {
    super(ctx);
    this.timers = timers;
    this.spec = spec;
    this.user = user;
    this.deps = deps;
    this.taskId = spec.taskId();
    this.lastDelivered = spec.lastDelivered();
    this.arrivals = spec.lastDelivered();
    this.outboxAck = ctx.messageAdapter(Done.class, d -> new OutputSent());
    this.statusIds = ctx.messageAdapter(Long.class, StatusCreated::new);
  }

  private Behavior<Command> start() {
    if (taskId != null) {
      log("resuming stream after index {}", lastDelivered);
      readStream();
      return this;
    }
    getContext()
        .pipeToSelf(
            deps.runner().upload(spec.userId(), spec.fileName(), spec.content()),
            (upload, error) -> error == null ? new Uploaded(upload) : new UploadRefused(error));
    return this;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Cancel.INSTANCE, this::onCancel)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Uploaded.class, this::onUploaded)
        .onMessage(UploadRefused.class, this::onUploadRefused)
        .onMessage(AcceptedByUser.class, this::onAcceptedByUser)
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onMessage(FrameArrived.class, this::onFrame)
        .onMessage(OutputSent.class, this::onOutputSent)
        .onMessage(Recorded.class, this::onRecorded)
        .onMessageEquals(GapTimeout.INSTANCE, this::onGapTimeout)
        .onMessageEquals(TypingTick.INSTANCE, this::onTypingTick)
        .onMessageEquals(ProgressFlush.INSTANCE, this::showProgress)
        .onMessage(StatusCreated.class, this::onStatusCreated)
        .onMessage(StreamEnded.class, m -> onStreamFailed(new StreamFailed(null)))
        .onMessage(StreamFailed.class, this::onStreamFailed)
        .onSignal(PostStop.class, s -> onStop())
        .build();
  }

  // ------------------------------------------------------------------ upload

  private Behavior<Command> onUploaded(Uploaded uploaded) {
    taskId = uploaded.upload().taskId();
    if (cancelled) {
      deps.runner().cancel(taskId);
      return Behaviors.stopped();
    }
    log("uploaded, queue position {}", uploaded.upload().queuePosition());
    getContext()
        .ask(
            Done.class,
            user,
            deps.askTimeout(),
            ref ->
                new Accepted(
                    spec.jobId(), taskId, uploaded.upload().queuePosition(), ref),
            (done, error) -> error == null ? new AcceptedByUser(taskId) : new Uploaded(uploaded.upload()));
    return this;
  }

  private Behavior<Command> onUploadRefused(UploadRefused refused) {
    if (cancelled) {
      return Behaviors.stopped();
    }
    getContext().getLog().warn("user {} job {}: upload failed: {}", spec.userId(), spec.jobId(),
        describe(refused.error()));
    return end(new Failed(spec.jobId(), JobOutcome.UPLOAD_FAILED, null));
  }

  private Behavior<Command> onAcceptedByUser(AcceptedByUser accepted) {
    if (draining != null) {
      return drained();
    }
    readStream();
    return this;
  }

  // ------------------------------------------------------------------ stream

  private void readStream() {
    if (!outputsStarted && !timers.isTimerActive(TypingTick.INSTANCE)) {
      onTypingTick();
      timers.startTimerWithFixedDelay(TypingTick.INSTANCE, deps.typingInterval());
    }
    Source<RunnerFrame, UniqueKillSwitch> source =
        polling
            ? deps.runner().poll(taskId).viaMat(KillSwitches.single(), Keep.right())
            : deps.runner().stream(taskId, Optional.empty());
    killSwitch =
        source
            .toMat(
                ActorSink.<RunnerFrame, Command, Ack>actorRefWithBackpressure(
                    getContext().getSelf(),
                    (ack, frame) -> new FrameArrived(frame, ack),
                    StreamStarted::new,
                    Ack.INSTANCE,
                    new StreamEnded(),
                    StreamFailed::new),
                Keep.left())
            .run(getContext().getSystem());
  }

  private Behavior<Command> onStreamStarted(StreamStarted started) {
    started.ack().tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onFrame(FrameArrived arrived) {
    if (cancelled || draining != null) {
      return this;
    }
    pendingAck = arrived.ack();
    RunnerFrame frame = arrived.frame();
    if (frame instanceof RunnerFrame.Progress p) {
      statusWanted = statusText(p);
      showProgress();
    } else if (frame instanceof RunnerFrame.Output o) {
      long index = o.index() != null ? o.index() : ++arrivals;
      arrivals = Math.max(arrivals, index);
      if (index > lastDelivered && !buffer.containsKey(index)
          && (delivering == null || delivering.getKey() != index)) {
        buffer.put(index, o);
      } else {
        getContext().getLog().debug("user {} job {}: output {} again, dropped", spec.userId(),
            spec.jobId(), index);
      }
    } else if (frame.terminal()) {
      terminal = frame;
    }
    return deliverNext();
  }

  private Behavior<Command> deliverNext() {
    if (delivering != null) {
      return this;
    }
    Map.Entry<Long, RunnerFrame.Output> first = buffer.firstEntry();
    boolean giveUpGap = gapExpired || buffer.size() > deps.reorderBuffer() || terminal != null;
    if (first != null && (first.getKey() == lastDelivered + 1 || giveUpGap)) {
      timers.cancel(GapTimeout.INSTANCE);
      gapExpired = false;
      if (first.getKey() != lastDelivered + 1) {
        getContext().getLog().warn("user {} job {} task {}: outputs {}..{} never arrived, moving on",
            spec.userId(), spec.jobId(), taskId, lastDelivered + 1, first.getKey() - 1);
      }
      buffer.pollFirstEntry();
      delivering = first;
      outputsStarted = true;
      timers.cancel(TypingTick.INSTANCE);
      List<Outgoing> parts = OutputRenderer.render(first.getValue());
      if (parts.isEmpty()) {
        return onOutputSent(new OutputSent());
      }
      for (int i = 0; i < parts.size(); i++) {
        ActorRef<Done> ack = i == parts.size() - 1 ? outboxAck : null;
        spec.outbox().tell(new ChatOutbox.Send(parts.get(i), spec.jobId(), ack));
      }
      return this;
    }
    if (terminal != null) {
      return finish(terminal);
    }
    if (first != null && !timers.isTimerActive(GapTimeout.INSTANCE)) {
      timers.startSingleTimer(GapTimeout.INSTANCE, deps.gapTimeout());
    }
    if (pendingAck != null) {
      ActorRef<Ack> ack = pendingAck;
      pendingAck = null;
      ack.tell(Ack.INSTANCE);
    }
    return this;
  }

  // ------------------------------------------------------------------ progress display

  private Behavior<Command> onTypingTick() {
    spec.outbox().tell(new ChatOutbox.Send(new Outgoing.Typing(), spec.jobId(), null));
    return this;
  }

  private static String statusText(RunnerFrame.Progress p) {
    int filled = Math.round(p.percent() / 10f);
    String bar = "▓".repeat(filled) + "░".repeat(10 - filled);
    String text = p.text() == null || p.text().isBlank() ? "" : "\n" + p.text();
    return "⏳ " + bar + " " + p.percent() + "%" + text;
  }

  /** Creates the status message, or edits it, at most once per progress-interval. */
  private Behavior<Command> showProgress() {
    if (statusWanted == null || statusPending || statusWanted.equals(statusShown)) {
      return this;
    }
    if (statusId == null) {
      statusPending = true;
      statusShown = statusWanted;
      spec.outbox().tell(new ChatOutbox.Send(
          Outgoing.Text.plain(statusWanted), spec.jobId(), null, statusIds));
      return this;
    }
    long dueIn = statusEditedAt + deps.progressInterval().toNanos() - System.nanoTime();
    if (dueIn > 0) {
      if (!timers.isTimerActive(ProgressFlush.INSTANCE)) {
        timers.startSingleTimer(ProgressFlush.INSTANCE, Duration.ofNanos(dueIn));
      }
      return this;
    }
    statusShown = statusWanted;
    statusEditedAt = System.nanoTime();
    spec.outbox().tell(new ChatOutbox.Send(
        new Outgoing.Edit(statusId, statusWanted), spec.jobId(), null));
    return this;
  }

  private Behavior<Command> onStatusCreated(StatusCreated created) {
    statusPending = false;
    statusId = created.messageId();
    statusEditedAt = System.nanoTime();
    return showProgress();
  }

  /** The status message goes when the task does; untagged, so a dropped job still removes it. */
  private void removeStatus() {
    if (statusId != null) {
      spec.outbox().tell(ChatOutbox.Send.of(new Outgoing.Delete(statusId)));
      statusId = null;
    }
  }

  private Behavior<Command> onGapTimeout() {
    gapExpired = true;
    return deliverNext();
  }

  private Behavior<Command> onOutputSent(OutputSent sent) {
    long index = delivering.getKey();
    getContext()
        .ask(
            Done.class,
            user,
            deps.askTimeout(),
            ref -> new Delivered(spec.jobId(), index, ref),
            (done, error) -> new Recorded(index, error == null));
    return this;
  }

  private Behavior<Command> onRecorded(Recorded recorded) {
    if (!recorded.ok()) {
      return onOutputSent(new OutputSent());
    }
    // DEBUG: at INFO every output cost two log lines (here and in the user actor); the job's
    // own lines (started, accepted, completed after N outputs) stay at INFO.
    getContext().getLog().debug("user {} job {} task {}: output {} delivered", spec.userId(),
        spec.jobId(), taskId, recorded.index());
    lastDelivered = Math.max(lastDelivered, recorded.index());
    delivering = null;
    return draining != null ? drained() : deliverNext();
  }

  private Behavior<Command> finish(RunnerFrame frame) {
    if (frame instanceof RunnerFrame.Completed) {
      log("completed after {} outputs", lastDelivered);
      return end(new Succeeded(spec.jobId()));
    }
    if (frame instanceof RunnerFrame.Failed f) {
      log("failed: {}", f.message());
      return end(new Failed(spec.jobId(), JobOutcome.FAILED, f.message()));
    }
    log("cancelled by the Runner{}", "");
    return end(new Failed(spec.jobId(), JobOutcome.CANCELLED, null));
  }

  private Behavior<Command> onStreamFailed(StreamFailed failed) {
    if (cancelled || terminal != null) {
      return this;
    }
    Throwable error = failed.error();
    if (error instanceof RunnerException.StreamIdle || error instanceof RunnerException.PollTimeout
        || polling) {
      getContext().getLog().warn("user {} job {} task {}: timed out ({})", spec.userId(),
          spec.jobId(), taskId, describe(error));
      return end(new Failed(spec.jobId(), JobOutcome.TIMED_OUT, null));
    }
    getContext().getLog().warn("user {} job {} task {}: stream unavailable ({}), polling instead",
        spec.userId(), spec.jobId(), taskId, describe(error));
    polling = true;
    pendingAck = null;
    readStream();
    return this;
  }

  // ------------------------------------------------------------------ end

  private Behavior<Command> onCancel() {
    cancelled = true;
    if (taskId == null) {
      log("cancel requested during upload{}", "");
      return this;
    }
    log("cancelled by the user{}", "");
    removeStatus();
    deps.runner().cancel(taskId);
    deps.registry().tell(new JobRegistry.Finished(spec.userId(), spec.jobId()));
    return Behaviors.stopped();
  }

  private Behavior<Command> end(Report report) {
    removeStatus();
    user.tell(report);
    deps.registry().tell(new JobRegistry.Finished(spec.userId(), spec.jobId()));
    if (draining != null) {
      draining.tell(Done.getInstance());
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onDrain(Drain drain) {
    draining = drain.replyTo();
    boolean uploading = taskId == null && !cancelled;
    return delivering != null || uploading ? this : drained();
  }

  private Behavior<Command> drained() {
    log("handed over after index {}", lastDelivered);
    removeStatus();
    draining.tell(Done.getInstance());
    return Behaviors.stopped();
  }

  private Behavior<Command> onStop() {
    if (killSwitch != null) {
      killSwitch.shutdown();
    }
    return this;
  }

  private void log(String what, Object arg) {
    getContext().getLog().info("user {} job {} task {}: " + what, spec.userId(), spec.jobId(),
        taskId, arg);
  }

  private static String describe(Throwable error) {
    return error == null ? "stream ended without a final frame"
        : error.getClass().getSimpleName() + ": " + error.getMessage();
  }
}
