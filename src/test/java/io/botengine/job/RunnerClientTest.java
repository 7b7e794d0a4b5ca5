package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.settings.ClientConnectionSettings;
import akka.stream.KillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.botengine.job.RunnerClient.TaskStatus;
import io.botengine.job.RunnerClient.Upload;
import io.botengine.job.RunnerFrame.Completed;
import io.botengine.job.RunnerFrame.Failed;
import io.botengine.job.RunnerFrame.Kind;
import io.botengine.job.RunnerFrame.Output;
import io.botengine.job.RunnerFrame.Progress;
import io.botengine.sandbox.RunnerEmulator;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.LogCapture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapture.class)
class RunnerClientTest {
  private static final String KEY = "test-api-key";
  private static final String FAST =
      "stream-min-backoff = 10ms, stream-max-backoff = 50ms, stream-max-failures = 3,"
          + " stream-idle-timeout = 20s, poll-interval = 20ms, poll-max-duration = 10s,"
          + " upload-timeout = 10s, request-timeout = 5s";
  private static final byte[] CV = "%PDF-1.4 резюме".getBytes(StandardCharsets.UTF_8);
  private static final AtomicLong users = new AtomicLong(1000);

  private static ActorTestKit testKit;
  private static ActorSystem<Void> system;
  private static RunnerEmulator emulator;

  @BeforeAll
  static void start() {
    testKit =
        ActorTestKit.create(
            "RunnerClientTest",
            ConfigFactory.parseString("akka.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    system = testKit.system();
    emulator = RunnerEmulator.start(system, "127.0.0.1", 0, KEY);
  }

  @AfterAll
  static void stop() {
    emulator.close();
    testKit.shutdownTestKit();
  }

  // Upload

  @Test
  void manyMoreUploadsAtOnceThanThePoolQueuesWaitTheirTurnInsteadOfFailing() throws Exception {
    // Akka's pool refuses requests past max-open-requests (BufferOverflowException): the client
    // hands it no more than it has connections.
    RunnerClient small = client(FAST
        + ", request-pool { max-connections = 2, max-open-requests = 4 }");
    List<CompletableFuture<Upload>> uploads = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      long user = users.incrementAndGet();
      uploads.add(small.upload(user, "cv.pdf", CV).toCompletableFuture());
    }
    Set<String> tasks = new HashSet<>();
    for (CompletableFuture<Upload> upload : uploads) {
      tasks.add(upload.get(60, TimeUnit.SECONDS).taskId());
    }
    assertEquals(200, tasks.size());
  }

  @Test
  void uploadsAFileNameMadeSafe() throws Exception {
    long user = users.incrementAndGet();
    await(client(FAST).upload(user, "../../etc/passwd", CV));
    long other = users.incrementAndGet();
    await(client(FAST).upload(other, "C:\\cv\\my\ncv.pdf", CV));
    assertEquals("passwd", receivedFrom(user).fileName());
    assertEquals("mycv.pdf", receivedFrom(other).fileName());
  }

  private RunnerEmulator.Upload receivedFrom(long user) {
    return emulator.uploads().stream().filter(u -> u.telegramId() == user).findFirst().orElseThrow();
  }

  @Test
  void uploadsTheFileAndTheUserAndReturnsTheTask() throws Exception {
    long user = users.incrementAndGet();
    Upload upload = await(client(FAST).upload(user, "Резюме Иванова.pdf", CV));

    assertFalse(upload.taskId().isBlank());
    assertTrue(upload.queuePosition() >= 1);
    RunnerEmulator.Upload received =
        emulator.uploads().stream().filter(u -> u.telegramId() == user).findFirst().orElseThrow();
    assertEquals("Резюме Иванова.pdf", received.fileName());
    assertTrue(Arrays.equals(CV, received.content()));
    assertEquals(upload.taskId(), received.taskId());
  }

  @Test
  void failsTheUploadOnHttp500() {
    RunnerException.UploadFailed failure =
        failure(uploadOf(RunnerScenario.UPLOAD_500), RunnerException.UploadFailed.class);
    assertEquals("HTTP 500", failure.reason());
  }

  @Test
  void failsTheUploadWhenTheAnswerHasNoTaskId() {
    RunnerException.UploadFailed failure =
        failure(uploadOf(RunnerScenario.UPLOAD_NO_TASK_ID), RunnerException.UploadFailed.class);
    assertEquals("answer without task_id", failure.reason());
  }

  @Test
  void failsTheUploadWithAWrongKey() {
    RunnerClient wrongKey =
        new RunnerClient(system, settings(FAST).withApiKey("wrong").withUrl(emulator.baseUrl()));
    RunnerException.UploadFailed failure =
        failure(
            wrongKey.upload(users.incrementAndGet(), "cv.pdf", CV),
            RunnerException.UploadFailed.class);
    assertEquals("HTTP 401", failure.reason());
  }

  @Test
  void failsTheUploadWhenTheConnectionIsRefused() throws IOException {
    RunnerClient refused = clientAt("http://127.0.0.1:" + freePort(), FAST);
    RunnerException.UploadFailed failure =
        failure(refused.upload(1, "cv.pdf", CV), RunnerException.UploadFailed.class);
    assertTrue(failure.reason().startsWith("connection failed"), failure.reason());
  }

  @Test
  void failsTheUploadWhenTheRunnerDoesNotAnswerInTime() throws IOException {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      RunnerClient client =
          clientAt("http://127.0.0.1:" + silent.getLocalPort(), FAST + ", upload-timeout = 300ms");
      RunnerException.UploadFailed failure =
          failure(client.upload(1, "cv.pdf", CV), RunnerException.UploadFailed.class);
      assertTrue(failure.reason().startsWith("no answer within"), failure.reason());
    }
  }

  // Stream

  @Test
  void streamsSeed001InOrderAndCompletes() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.SEED_001));
    List<RunnerFrame> frames = run(client(FAST).stream(upload.taskId(), Optional.empty()));

    assertEquals(7, frames.size(), frames::toString);
    assertInstanceOf(Progress.class, frames.get(0));
    assertEquals(text(1L, "CV успешно прочитано. Начинаю анализ..."), withoutId(frames.get(1)));
    assertInstanceOf(Progress.class, frames.get(2));
    assertEquals(text(2L, "Анализ завершен. Отправляю результат..."), withoutId(frames.get(3)));
    Output analysis = (Output) frames.get(4);
    assertEquals(
        List.of(3L, Kind.FILE, "cv_analysis.md", "Результат анализа"),
        Arrays.asList(analysis.index(), analysis.kind(), analysis.fileName(), analysis.caption()));
    Output recommendations = (Output) frames.get(5);
    assertEquals(
        List.of(4L, Kind.FILE, "recommendations.md", "Рекомендации"),
        Arrays.asList(
            recommendations.index(),
            recommendations.kind(),
            recommendations.fileName(),
            recommendations.caption()));
    assertEquals(new Completed(upload.taskId(), "7"), frames.get(6));
    assertEquals(1, emulator.streamConnections(upload.taskId()));
  }

  @Test
  void readsDialect1Streams() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.DIALECT_1));
    List<RunnerFrame> frames = run(client(FAST).stream(upload.taskId(), Optional.empty()));

    assertEquals(
        List.of(
            new Progress(25, "Executing node..."),
            text(null, "CV успешно прочитано. Начинаю анализ..."),
            text(null, "Анализ завершен. Отправляю результат...")),
        frames.subList(0, 3));
    assertEquals("analysis.md", ((Output) frames.get(3)).fileName());
    assertEquals(new Completed(null), frames.get(4));
  }

  @Test
  void endsWithFailedWhenTheRunnerReportsAnError() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.ERROR_MIDSTREAM));
    List<RunnerFrame> frames = run(client(FAST).stream(upload.taskId(), Optional.empty()));

    assertEquals(List.of(1L), indices(frames));
    assertEquals(new Failed("Ошибка обработки файла", "3"), frames.get(frames.size() - 1));
  }

  @Test
  void reconnectsAfterADropWithLastEventIdAndGetsTheRest() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.DROP_AND_RESUME));
    List<RunnerFrame> frames = run(client(FAST).stream(upload.taskId(), Optional.empty()));

    assertEquals(List.of(1L, 2L, 3L, 4L), indices(frames));
    assertInstanceOf(Completed.class, frames.get(frames.size() - 1));
    assertEquals(List.of("", "3"), emulator.lastEventIds(upload.taskId()));
  }

  @Test
  void passesOnWhatARunnerReplaysAfterAReconnect() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.REPLAY_ON_RECONNECT));
    List<RunnerFrame> frames = run(client(FAST).stream(upload.taskId(), Optional.empty()));

    assertEquals(List.of(1L, 2L, 1L, 2L, 3L, 4L), indices(frames));
    assertInstanceOf(Completed.class, frames.get(frames.size() - 1));
    assertEquals(List.of("", "3"), emulator.lastEventIds(upload.taskId()));
  }

  @Test
  void givesUpOnARunnerThatOnlyEverReplays() {
    Upload upload = await(uploadOf(RunnerScenario.REPLAY_FOREVER));
    List<RunnerFrame> received = new CopyOnWriteArrayList<>();
    RunnerException.StreamUnavailable failure =
        failure(
            client(FAST).stream(upload.taskId(), Optional.empty())
                .runWith(Sink.foreach(received::add), system),
            RunnerException.StreamUnavailable.class);

    assertTrue(failure.reason().contains("without anything new"), failure.reason());
    assertEquals(4, emulator.streamConnections(upload.taskId()));
    assertEquals(List.of(1L, 2L, 1L, 2L, 1L, 2L, 1L, 2L), indices(received));
  }

  @Test
  void readsAFileOutputFarLargerThanAkkasDefaultSseLine() throws Exception {
    RunnerScenario scenario = RunnerScenario.largeFile(300_000);
    Upload upload = await(uploadOf(scenario));
    List<RunnerFrame> frames = run(client(FAST).stream(upload.taskId(), Optional.empty()));

    assertEquals(2, frames.size(), () -> frames.get(0).getClass().getSimpleName());
    assertEquals(scenario.resultContent(), ((Output) frames.get(0)).content());
    assertInstanceOf(Completed.class, frames.get(1));
  }

  @Test
  void resumesAJobFromTheLastEventIdItIsGiven() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.SEED_001));
    List<RunnerFrame> frames = run(client(FAST).stream(upload.taskId(), Optional.of("5")));

    assertEquals(List.of(4L), indices(frames));
    assertInstanceOf(Completed.class, frames.get(1));
    assertEquals(List.of("5"), emulator.lastEventIds(upload.taskId()));
  }

  @Test
  void leavesDuplicatesAndOrderToTheCaller() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.DUPLICATES_AND_OUT_OF_ORDER));
    List<RunnerFrame> frames = run(client(FAST).stream(upload.taskId(), Optional.empty()));

    assertEquals(List.of(1L, 3L, 2L, 2L, 4L), indices(frames));
  }

  @Test
  void skipsAndCountsGarbage() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.GARBAGE));
    RunnerClient client = client(FAST);
    List<RunnerFrame> frames = run(client.stream(upload.taskId(), Optional.empty()));

    assertEquals(List.of(1L, 2L, 3L), indices(frames));
    assertEquals(4, frames.size());
    assertInstanceOf(Completed.class, frames.get(3));
    assertEquals(RunnerScenario.GARBAGE_PARSED, client.skippedFrames());
  }

  @Test
  void givesUpWithStreamUnavailableAfterConsecutiveFailures() {
    Upload upload = await(uploadOf(RunnerScenario.STREAM_DOWN));
    RunnerException.StreamUnavailable failure =
        failure(
            client(FAST).stream(upload.taskId(), Optional.empty()).runWith(Sink.seq(), system),
            RunnerException.StreamUnavailable.class);

    assertTrue(failure.reason().contains("HTTP 503"), failure.reason());
    assertEquals(3, emulator.streamConnections(upload.taskId()));
  }

  @Test
  void givesUpWithStreamUnavailableWhenTheConnectionIsRefused() throws IOException {
    RunnerClient refused = clientAt("http://127.0.0.1:" + freePort(), FAST);
    RunnerException.StreamUnavailable failure =
        failure(
            refused.stream("t-1", Optional.empty()).runWith(Sink.seq(), system),
            RunnerException.StreamUnavailable.class);
    assertTrue(failure.reason().contains("connection failed"), failure.reason());
  }

  @Test
  void fallsBackToPollingWhenTheStreamIsUnavailable() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.STREAM_DOWN));
    RunnerClient client = client(FAST);
    List<RunnerFrame> frames =
        run(
            client.stream(upload.taskId(), Optional.empty())
                .recoverWithRetries(
                    1,
                    RunnerException.StreamUnavailable.class,
                    () -> client.poll(upload.taskId())));

    assertEquals(
        List.of(
            new Output(
                null, Kind.FILE, RunnerScenario.STREAM_DOWN.resultContent(), "cv_result.md", null),
            new Completed(upload.taskId())),
        frames);
  }

  @Test
  void failsWithStreamIdleWhenNothingArrives() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.STALL));
    List<RunnerFrame> received = new CopyOnWriteArrayList<>();
    CompletionStage<Done> done =
        client(FAST + ", stream-idle-timeout = 1500ms").stream(upload.taskId(), Optional.empty())
            .runWith(Sink.foreach(received::add), system);

    failure(done, RunnerException.StreamIdle.class);
    assertEquals(List.of(1L), indices(received));
  }

  @Test
  void endsTheStreamWithCancelledWhenTheJobIsCancelled() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.STALL));
    RunnerClient client = client(FAST);
    TestSubscriber.Probe<RunnerFrame> probe =
        client.stream(upload.taskId(), Optional.empty()).runWith(TestSink.create(system), system);
    probe.request(10);
    assertInstanceOf(Progress.class, probe.expectNext());
    assertInstanceOf(Output.class, probe.expectNext());

    assertEquals(Done.getInstance(), await(client.cancel(upload.taskId())));
    assertInstanceOf(RunnerFrame.Cancelled.class, probe.expectNext());
    probe.expectComplete();
    assertTrue(emulator.cancelled().contains(upload.taskId()));
  }

  @Test
  void refusesToMaterializeAStreamTwice() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.STALL));
    Source<RunnerFrame, KillSwitch> stream = client(FAST).stream(upload.taskId(), Optional.empty());
    KillSwitch first = stream.to(Sink.ignore()).run(system);
    try {
      assertThrows(IllegalStateException.class, () -> stream.to(Sink.ignore()).run(system));
    } finally {
      first.shutdown();
    }
  }

  @Test
  void stopsWithItsKillSwitch() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.STALL));
    var running =
        client(FAST).stream(upload.taskId(), Optional.empty())
            .toMat(Sink.seq(), Keep.both())
            .run(system);
    KillSwitch killSwitch = running.first();
    killSwitch.shutdown();
    assertTrue(running.second().toCompletableFuture().get(10, TimeUnit.SECONDS).size() <= 2);
  }

  @Test
  void follows200StreamsAtOnce() throws Exception {
    int streams = 200;
    int outputs = 20;
    RunnerScenario scenario = RunnerScenario.manyOutputs(outputs, Duration.ZERO);
    RunnerClient client = client(FAST);
    List<CompletableFuture<Upload>> uploads = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      long user = users.incrementAndGet();
      emulator.scenarioFor(user, scenario);
      uploads.add(client.upload(user, "cv.pdf", CV).toCompletableFuture());
    }
    List<String> taskIds = new ArrayList<>();
    for (CompletableFuture<Upload> upload : uploads) {
      taskIds.add(upload.get(60, TimeUnit.SECONDS).taskId());
    }
    List<CompletableFuture<List<RunnerFrame>>> running =
        taskIds.stream()
            .map(
                id ->
                    client.stream(id, Optional.empty())
                        .runWith(Sink.seq(), system)
                        .toCompletableFuture())
            .collect(Collectors.toList());

    List<Long> expected = LongStream.rangeClosed(1, outputs).boxed().collect(Collectors.toList());
    for (int i = 0; i < streams; i++) {
      List<RunnerFrame> frames = running.get(i).get(120, TimeUnit.SECONDS);
      assertEquals(expected, indices(frames), "task " + taskIds.get(i));
      assertInstanceOf(Completed.class, frames.get(frames.size() - 1));
      assertEquals(1, emulator.streamConnections(taskIds.get(i)));
    }
  }

  // Status, result, cancel, health, polling

  @Test
  void readsStatusAndResult() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.STREAM_DOWN));
    RunnerClient client = client(FAST);

    assertEquals(
        new TaskStatus(TaskStatus.State.QUEUED, null), await(client.status(upload.taskId())));
    assertEquals(
        new TaskStatus(TaskStatus.State.RUNNING, null), await(client.status(upload.taskId())));
    assertEquals(
        new TaskStatus(TaskStatus.State.COMPLETED, null), await(client.status(upload.taskId())));
    assertEquals(RunnerScenario.STREAM_DOWN.resultContent(), await(client.result(upload.taskId())));
  }

  @Test
  void failsStatusOfAnUnknownTask() {
    RunnerException.RequestFailed failure =
        failure(client(FAST).status("no-such-task"), RunnerException.RequestFailed.class);
    assertTrue(failure.reason().endsWith("HTTP 404"), failure.reason());
  }

  @Test
  void cancelsBestEffort() throws Exception {
    assertEquals(Done.getInstance(), await(client(FAST).cancel("no-such-task")));
    assertTrue(emulator.cancelled().contains("no-such-task"));
    RunnerClient refused = clientAt("http://127.0.0.1:" + freePort(), FAST);
    assertEquals(Done.getInstance(), await(refused.cancel("t-1")));
  }

  @Test
  void reportsHealth() throws Exception {
    assertTrue(await(client(FAST).healthy()));
    assertFalse(await(clientAt("http://127.0.0.1:" + freePort(), FAST).healthy()));
  }

  @Test
  void pollsAFailedJob() throws Exception {
    Upload upload = await(uploadOf(RunnerScenario.ERROR_MIDSTREAM));
    assertEquals(
        List.of(new Failed("Ошибка обработки файла")), run(client(FAST).poll(upload.taskId())));
  }

  @Test
  void stopsPollingAfterTheLimit() {
    Upload upload = await(uploadOf(RunnerScenario.STALL));
    failure(
        client(FAST + ", poll-max-duration = 200ms")
            .poll(upload.taskId())
            .runWith(Sink.seq(), system),
        RunnerException.PollTimeout.class);
  }

  @Test
  void stopsPollingATaskTheRunnerDoesNotKnowAtOnce() throws Exception {
    CompletionStage<?> polled = client(FAST + ", poll-max-duration = 120s")
        .poll("no-such-task")
        .runWith(Sink.seq(), system);
    try {
      Object value = polled.toCompletableFuture().get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      assertEquals(RunnerFailure.TASK_NOT_FOUND, RunnerFailure.of(e.getCause()), e.toString());
    }
  }

  // Settings

  @Test
  void streamConnectionsNeverIdleOutBeforeTheStreamIdleTimeout() {
    RunnerClient client = client("stream-idle-timeout = 900s, stream-connection.idle-timeout = 5s");
    ClientConnectionSettings connection = client.streamConnectionSettings();
    scala.concurrent.duration.Duration idle = connection.getIdleTimeout();
    scala.concurrent.duration.Duration limit =
        scala.concurrent.duration.Duration.fromNanos(Duration.ofSeconds(900).toNanos());

    assertTrue(!idle.isFinite() || idle.gteq(limit), idle.toString());
    assertTrue(
        connection.getParserSettings().getMaxChunkSize() >= client.settings().maxFrameSize());
  }

  @Test
  void refusesSseLimitsBelowTheFrameSize() {
    RunnerSettings tooBig = settings(FAST + ", max-frame-size = 16777216");
    assertThrows(
        IllegalArgumentException.class,
        () -> new RunnerClient(system, tooBig.withUrl(emulator.baseUrl())));
  }

  @Test
  void neverShowsTheApiKey() {
    assertFalse(client(FAST).settings().toString().contains(KEY));
  }

  // Helpers

  private static RunnerSettings settings(String overrides) {
    Config runner =
        ConfigFactory.parseString(overrides)
            .withFallback(system.settings().config().getConfig("bot.runner"));
    return RunnerSettings.fromConfig(runner);
  }

  private static RunnerClient client(String overrides) {
    return clientAt(emulator.baseUrl(), overrides);
  }

  private static RunnerClient clientAt(String url, String overrides) {
    return new RunnerClient(system, settings(overrides).withUrl(url).withApiKey(KEY));
  }

  private static CompletionStage<Upload> uploadOf(RunnerScenario scenario) {
    long user = users.incrementAndGet();
    emulator.scenarioFor(user, scenario);
    return client(FAST).upload(user, "cv.pdf", CV);
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("did not complete: " + e, e);
    }
  }

  private static List<RunnerFrame> run(Source<RunnerFrame, ?> source) throws Exception {
    return source.runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static <E extends Throwable> E failure(CompletionStage<?> stage, Class<E> expected) {
    try {
      Object value = stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected " + expected.getSimpleName() + " but got " + value);
    } catch (ExecutionException e) {
      return assertInstanceOf(expected, e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static Output text(Long index, String content) {
    return new Output(index, Kind.TEXT, content, null, null);
  }

  private static RunnerFrame withoutId(RunnerFrame frame) {
    Output output = (Output) frame;
    return new Output(
        output.index(), output.kind(), output.content(), output.fileName(), output.caption());
  }

  private static List<Long> indices(List<RunnerFrame> frames) {
    return frames.stream()
        .filter(Output.class::isInstance)
        .map(frame -> ((Output) frame).index())
        .collect(Collectors.toList());
  }
}
