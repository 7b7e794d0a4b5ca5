package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.NotUsed;
import akka.actor.DeadLetter;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.eventstream.EventStream;
import akka.stream.KillSwitches;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.testkit.TestPublisher;
import akka.stream.javadsl.Source;
import com.typesafe.config.ConfigFactory;
import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Outgoing;
import io.botengine.testing.LogCapture;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One task actor against a Runner whose frames the test hands in, with probes for its parent (the
 * reports), the chat outbox and the job registry, on manual time: the phases of a job and the
 * order and pace of its outputs.
 */
@ExtendWith(LogCapture.class)
class TaskActorTest {
  private static final Duration GAP_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration SHORT = Duration.ofMillis(300);
  private static final ActorTestKit testKit =
      ActorTestKit.create(
          ManualTime.config()
              .withFallback(ConfigFactory.parseString("akka.actor.provider = local"))
              .withFallback(ConfigFactory.load("application-test.conf")));
  private static final ManualTime time = ManualTime.get(testKit.system());
  private static int jobs;

  private TestProbe<TaskActor.Report> parent;
  private TestProbe<ChatOutbox.Command> outbox;
  private TestProbe<JobRegistry.Command> registry;
  private FakeRunner runner;
  private String jobId;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void probes() {
    parent = testKit.createTestProbe();
    outbox = testKit.createTestProbe();
    registry = testKit.createTestProbe();
    runner = new FakeRunner();
    jobId = "job-" + ++jobs;
  }

  /** A Runner whose stream and polling are the sources the test sets; records cancels. */
  private static final class FakeRunner implements TaskActor.Runner {
    final CompletableFuture<RunnerClient.Upload> upload = new CompletableFuture<>();
    final List<String> cancelled = new CopyOnWriteArrayList<>();
    volatile int uploadedBytes;
    volatile Source<RunnerFrame, ?> stream = Source.empty();
    volatile Source<RunnerFrame, ?> poll = Source.empty();

    @Override
    public CompletionStage<RunnerClient.Upload> upload(long userId, String name, byte[] content) {
      uploadedBytes = content.length;
      return upload;
    }

    @Override
    public Source<RunnerFrame, UniqueKillSwitch> stream(String taskId) {
      return stream.viaMat(KillSwitches.single(), Keep.right());
    }

    @Override
    public Source<RunnerFrame, UniqueKillSwitch> poll(String taskId) {
      return poll.viaMat(KillSwitches.single(), Keep.right());
    }

    @Override
    public void cancel(String taskId) {
      cancelled.add(taskId);
    }
  }

  private static RunnerFrame.Output output(long index) {
    return new RunnerFrame.Output(index, RunnerFrame.Kind.TEXT, "Вывод " + index, null, null);
  }

  private ActorRef<TaskActor.Command> spawn(String taskId, long lastDelivered) {
    return spawn(taskId, lastDelivered, LivePreview.Settings.OFF);
  }

  private ActorRef<TaskActor.Command> spawn(
      String taskId, long lastDelivered, LivePreview.Settings preview) {
    JobLauncher.JobSpec spec = new JobLauncher.JobSpec(7, 7, jobId, taskId, "cv.txt",
        "CV".getBytes(), lastDelivered, outbox.ref());
    return testKit.spawn(TaskActor.create(spec, parent.ref(), deps(preview)));
  }

  private TaskActor.Deps deps(LivePreview.Settings preview) {
    return new TaskActor.Deps(runner, registry.ref(), 64, GAP_TIMEOUT,
        Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofSeconds(5), preview);
  }

  /** A task resuming an accepted job (no upload), reading these frames. */
  private ActorRef<TaskActor.Command> reading(Source<RunnerFrame, ?> frames) {
    runner.stream = frames;
    return spawn("task-1", 0);
  }

  /** The next message to the chat other than "typing". */
  private ChatOutbox.Send nextSend() {
    while (true) {
      ChatOutbox.Send send = (ChatOutbox.Send) outbox.receiveMessage();
      if (!(send.message() instanceof Outgoing.Typing)) {
        return send;
      }
    }
  }

  /** Expects output {@code index} sent to the chat, acks it, and has the parent record it. */
  private void expectDelivered(long index) {
    ChatOutbox.Send send = nextSend();
    assertEquals("Вывод " + index, ((Outgoing.Text) send.message()).text());
    assertEquals(jobId, send.jobId());
    send.ackTo().tell(Done.getInstance());
    TaskActor.Delivered delivered = parent.expectMessageClass(TaskActor.Delivered.class);
    assertEquals(index, delivered.index());
    delivered.replyTo().tell(Done.getInstance());
  }

  private void expectEnded(ActorRef<TaskActor.Command> task) {
    assertInstanceOf(JobRegistry.Finished.class, registry.receiveMessage());
    parent.expectTerminated(task);
  }

  @Test
  void deliversOutputsInOrderAndReportsSuccess() {
    ActorRef<TaskActor.Command> task = reading(Source.from(List.of(
        output(1), output(2), new RunnerFrame.Completed("task-1"))));
    expectDelivered(1);
    expectDelivered(2);
    assertEquals(new TaskActor.Succeeded(jobId), parent.receiveMessage());
    expectEnded(task);
  }

  @Test
  void pullsTheNextFrameOnlyOnceTheOutboxAndTheParentAcknowledged() {
    reading(Source.from(List.of(output(1), output(2), new RunnerFrame.Completed("task-1"))));
    ChatOutbox.Send first = nextSend();
    assertEquals("Вывод 1", ((Outgoing.Text) first.message()).text());
    outbox.expectNoMessage(SHORT);
    parent.expectNoMessage(SHORT);

    first.ackTo().tell(Done.getInstance());
    TaskActor.Delivered delivered = parent.expectMessageClass(TaskActor.Delivered.class);
    outbox.expectNoMessage(SHORT);

    delivered.replyTo().tell(Done.getInstance());
    assertEquals("Вывод 2", ((Outgoing.Text) nextSend().message()).text());
  }

  @Test
  void letsGoOfTheFileOnceItsUploadIsUnderWay() {
    WeakReference<byte[]> file = spawnWithFile(1_000_000);
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(1_000_000, runner.uploadedBytes, "the upload got the file");
      System.gc();
      assertTrue(file.get() == null, "a running job holds its CV (1 MB) no longer than its upload");
      return null;
    });
    runner.upload.complete(new RunnerClient.Upload("task-9", 1));
    assertEquals("task-9", parent.expectMessageClass(TaskActor.Accepted.class).taskId());
  }

  /** A new job with a file of {@code size} bytes that only the task holds. */
  private WeakReference<byte[]> spawnWithFile(int size) {
    byte[] content = new byte[size];
    testKit.spawn(TaskActor.create(new JobLauncher.JobSpec(7, 7, jobId, null, "cv.pdf", content,
        0, outbox.ref()), parent.ref(), deps(LivePreview.Settings.OFF)));
    return new WeakReference<>(content);
  }

  @Test
  void uploadsThenReadsOnlyOnceTheParentRecordedTheRunnersTaskId() {
    runner.stream = Source.from(List.of(output(1), new RunnerFrame.Completed("task-9")));
    ActorRef<TaskActor.Command> task = spawn(null, 0);
    outbox.expectNoMessage(SHORT);
    runner.upload.complete(new RunnerClient.Upload("task-9", 3));
    TaskActor.Accepted accepted = parent.expectMessageClass(TaskActor.Accepted.class);
    assertEquals(new TaskActor.Accepted(jobId, "task-9", 3, accepted.replyTo()), accepted);
    outbox.expectNoMessage(SHORT);
    accepted.replyTo().tell(Done.getInstance());
    expectDelivered(1);
    assertEquals(new TaskActor.Succeeded(jobId), parent.receiveMessage());
    expectEnded(task);
  }

  @Test
  void putsOutputsInOrderAcrossAGapAndDropsRepeats() {
    ActorRef<TaskActor.Command> task = reading(Source.from(List.of(
        output(1), output(3), output(2), output(2), output(1), output(4),
        new RunnerFrame.Completed("task-1"))));
    for (long index = 1; index <= 4; index++) {
      expectDelivered(index);
    }
    assertEquals(new TaskActor.Succeeded(jobId), parent.receiveMessage());
    expectEnded(task);
  }

  @Test
  void sendsWhatWaitsBehindAGapOnceTheGapTimedOut() {
    ActorRef<TaskActor.Command> task =
        reading(Source.<RunnerFrame>from(List.of(output(1), output(3))).concat(Source.never()));
    expectDelivered(1);
    outbox.expectNoMessage(SHORT);
    time.timePasses(GAP_TIMEOUT.minusSeconds(1));
    outbox.expectNoMessage(SHORT);
    time.timePasses(Duration.ofSeconds(1));
    expectDelivered(3);
    task.tell(TaskActor.Cancel.INSTANCE);
    expectEnded(task);
  }

  @Test
  void reportsARunnerErrorAsAFailureWithItsText() {
    ActorRef<TaskActor.Command> task = reading(Source.from(List.of(
        output(1), new RunnerFrame.Failed("Ошибка обработки файла"))));
    expectDelivered(1);
    assertEquals(new TaskActor.Failed(jobId, JobOutcome.FAILED, "Ошибка обработки файла"),
        parent.receiveMessage());
    expectEnded(task);
  }

  @Test
  void pollsWhenTheStreamFails() {
    runner.poll = Source.from(List.of(output(1), new RunnerFrame.Completed("task-1")));
    ActorRef<TaskActor.Command> task =
        reading(Source.failed(new RunnerException.StreamUnavailable("task-1", "503")));
    expectDelivered(1);
    assertEquals(new TaskActor.Succeeded(jobId), parent.receiveMessage());
    expectEnded(task);
  }

  @Test
  void cancelStopsTheRunnerTaskAndSendsNothingMore() {
    ActorRef<TaskActor.Command> task = reading(Source.from(List.of(
        output(1), output(2), new RunnerFrame.Completed("task-1"))));
    ChatOutbox.Send inFlight = nextSend();
    task.tell(TaskActor.Cancel.INSTANCE);
    expectEnded(task);
    assertEquals(List.of("task-1"), runner.cancelled);
    inFlight.ackTo().tell(Done.getInstance());
    outbox.expectNoMessage(SHORT);
    parent.expectNoMessage(SHORT);
  }

  @Test
  void drainRecordsTheOutputInFlightThenStopsWithoutEndingTheJob() {
    ActorRef<TaskActor.Command> task = reading(Source.from(List.of(
        output(1), output(2), new RunnerFrame.Completed("task-1"))));
    TestProbe<Done> drained = testKit.createTestProbe();
    ChatOutbox.Send inFlight = nextSend();
    task.tell(new TaskActor.Drain(drained.ref()));
    drained.expectNoMessage(SHORT);

    inFlight.ackTo().tell(Done.getInstance());
    TaskActor.Delivered delivered = parent.expectMessageClass(TaskActor.Delivered.class);
    assertEquals(1, delivered.index());
    delivered.replyTo().tell(Done.getInstance());
    drained.expectMessage(Done.getInstance());
    parent.expectTerminated(task);
    registry.expectNoMessage(SHORT);
    assertEquals(List.of(), runner.cancelled);
    outbox.expectNoMessage(SHORT);
  }

  @Test
  void endsANormalJobWithoutADeadLetter() {
    TestProbe<DeadLetter> deadLetters = testKit.createTestProbe();
    testKit.system().eventStream()
        .tell(new EventStream.Subscribe<>(DeadLetter.class, deadLetters.ref()));
    ActorRef<TaskActor.Command> task = reading(Source.from(List.of(
        output(1), new RunnerFrame.Completed("task-1"))));
    expectDelivered(1);
    assertEquals(new TaskActor.Succeeded(jobId), parent.receiveMessage());
    expectEnded(task);
    List<Object> toThisTask = new ArrayList<>();
    try {
      while (true) {
        DeadLetter dead = deadLetters.receiveMessage(Duration.ofMillis(500));
        if (dead.recipient().path().toString().startsWith(task.path().toString())) {
          toThisTask.add(dead.message());
        }
      }
    } catch (AssertionError quietForHalfASecond) {
      assertEquals(List.of(), toThisTask, "dead letters to the stopped task");
    }
  }

  private static final long ABSURD = 1_000_000_000_000_000L;

  @Test
  void dropsAnIndexFarBeyondTheWindowDeliversTheRestAndDoesNotReportSuccess() {
    ActorRef<TaskActor.Command> task = reading(Source.from(List.of(
        output(1), output(ABSURD), output(2), output(3), new RunnerFrame.Completed("task-1"))));
    for (long index = 1; index <= 3; index++) {
      expectDelivered(index);
    }
    assertEquals(new TaskActor.Failed(jobId, JobOutcome.INCOMPLETE, null), parent.receiveMessage());
    expectEnded(task);
    outbox.expectNoMessage(SHORT);
  }

  @Test
  void neverSendsAnIndexFarBeyondTheWindowWhenTheGapTimesOut() {
    CompletableFuture<Source<RunnerFrame, NotUsed>> rest = new CompletableFuture<>();
    ActorRef<TaskActor.Command> task = reading(Source.<RunnerFrame>from(
        List.of(output(1), output(ABSURD))).concat(Source.completionStageSource(rest)));
    expectDelivered(1);
    time.timePasses(GAP_TIMEOUT);
    outbox.expectNoMessage(SHORT);
    rest.complete(Source.from(List.of(output(2), output(3), new RunnerFrame.Completed("task-1"))));
    expectDelivered(2);
    expectDelivered(3);
    assertEquals(new TaskActor.Failed(jobId, JobOutcome.INCOMPLETE, null), parent.receiveMessage());
    expectEnded(task);
  }

  // ------------------------------------------------------------------ streamed outputs

  private static final Duration PREVIEW_INTERVAL = Duration.ofMillis(500);
  private static final Duration EDIT_INTERVAL = Duration.ofSeconds(1);
  private static final Duration DRAFT_REFRESH = Duration.ofSeconds(20);

  private ActorRef<TaskActor.Command> streamed;

  /** A task previewing in {@code mode}, reading frames the test publishes one by one. */
  private TestPublisher.Probe<RunnerFrame> streamingTask(LivePreview.Mode mode) {
    TestPublisher.Probe<RunnerFrame> frames =
        TestPublisher.probe(0, testKit.system().classicSystem());
    runner.stream = Source.fromPublisher(frames);
    streamed = spawn("task-1", 0, new LivePreview.Settings(mode, PREVIEW_INTERVAL, EDIT_INTERVAL,
        DRAFT_REFRESH));
    return frames;
  }

  /** The next preview call to the chat, answered with {@code result} as the outbox would. */
  private Outgoing nextPreviewCall(long result) {
    ChatOutbox.Send send = nextSend();
    assertEquals(jobId, send.jobId());
    send.idTo().tell(result);
    return send.message();
  }

  /** Expects the real message of output {@code index}, acks it and has the parent record it. */
  private void expectDelivery(long index, Outgoing message) {
    ChatOutbox.Send send = nextSend();
    assertEquals(message, send.message());
    send.ackTo().tell(Done.getInstance());
    TaskActor.Delivered delivered = parent.expectMessageClass(TaskActor.Delivered.class);
    assertEquals(index, delivered.index());
    delivered.replyTo().tell(Done.getInstance());
  }

  @Test
  void previewsAStreamedOutputOncePerIntervalWhateverItsDeltasThenDeliversTheCompleteOne() {
    TestPublisher.Probe<RunnerFrame> frames = streamingTask(LivePreview.Mode.DRAFT);
    StringBuilder text = new StringBuilder();
    List<Outgoing.Draft> drafts = new ArrayList<>();
    frames.sendNext(new RunnerFrame.Delta(1, "ж"));
    text.append("ж");
    ChatOutbox.Send held = nextSend();
    for (int i = 0; i < 50; i++) {
      frames.sendNext(new RunnerFrame.Delta(1, "ж"));
      text.append("ж");
    }
    held.idTo().tell(0L);
    drafts.add((Outgoing.Draft) held.message());
    int seconds = 10;
    for (int step = 0; step < seconds * 2; step++) {
      for (int i = 0; i < 100; i++) {
        String token = i == 99 ? " " : "ж";
        text.append(token);
        frames.sendNext(new RunnerFrame.Delta(1, token));
      }
      if (step == 0) {
        outbox.expectNoMessage(SHORT);
      }
      time.timePasses(PREVIEW_INTERVAL);
      drafts.add((Outgoing.Draft) nextPreviewCall(0));
    }
    assertEquals(seconds * 2 + 1, drafts.size(),
        "2051 deltas in 10 s: one draft per interval, the stream never held for one");
    assertTrue(text.toString().startsWith(drafts.get(drafts.size() - 1).text()));
    assertEquals(1, drafts.stream().map(Outgoing.Draft::draftId).distinct().count());

    String complete = text.toString().strip();
    frames.sendNext(new RunnerFrame.Output(1L, RunnerFrame.Kind.TEXT, complete, null, null));
    expectDelivery(1, new Outgoing.Text(complete, OutputRenderer.MARKDOWN));
    frames.sendNext(new RunnerFrame.Completed("task-1"));
    assertEquals(new TaskActor.Succeeded(jobId), parent.receiveMessage());
    time.timePasses(DRAFT_REFRESH);
    outbox.expectNoMessage(SHORT);
  }

  @Test
  void refreshesTheDraftInAPauseAndFallsBackToAnEditedMessageWhenDraftsAreRefused() {
    TestPublisher.Probe<RunnerFrame> frames = streamingTask(LivePreview.Mode.DRAFT);
    frames.sendNext(new RunnerFrame.Delta(1, "Пауза "));
    Outgoing.Draft first = (Outgoing.Draft) nextPreviewCall(0);
    time.timePasses(DRAFT_REFRESH.minusSeconds(1));
    outbox.expectNoMessage(SHORT);
    time.timePasses(Duration.ofSeconds(1));
    assertEquals(first, nextPreviewCall(ChatOutbox.DRAFTS_REFUSED), "sent again before it expires");

    assertEquals(Outgoing.Text.plain("Пауза"), nextPreviewCall(42), "a message instead");
    assertEquals(new TaskActor.PreviewShown(jobId, 1, 42), parent.receiveMessage(),
        "recorded, so that a task resuming after a crash finishes it");
    frames.sendNext(new RunnerFrame.Delta(1, "окончена"));
    outbox.expectNoMessage(SHORT);
    time.timePasses(EDIT_INTERVAL);
    assertEquals(new Outgoing.Edit(42, "Пауза окончена"), nextPreviewCall(42));

    frames.sendNext(new RunnerFrame.Output(1L, RunnerFrame.Kind.TEXT, "Пауза *окончена*", null,
        null));
    expectDelivery(1, new Outgoing.Edit(42, "Пауза *окончена*", OutputRenderer.MARKDOWN));
  }

  @Test
  void deletesTheEditedPreviewWhenTheJobIsCancelled() {
    TestPublisher.Probe<RunnerFrame> frames = streamingTask(LivePreview.Mode.EDIT);
    frames.sendNext(new RunnerFrame.Delta(1, "Недописанный ответ"));
    assertEquals(Outgoing.Text.plain("Недописанный ответ"), nextPreviewCall(42));
    outbox.expectNoMessage(SHORT);
    streamed.tell(TaskActor.Cancel.INSTANCE);
    ChatOutbox.Send delete = nextSend();
    assertEquals(new Outgoing.Delete(42), delete.message());
    assertEquals(null, delete.jobId(), "untagged: dropping the job does not drop it");
  }
}
