package io.botengine.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.Multiparts;
import akka.http.javadsl.model.headers.RawHeader;
import akka.stream.KillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import com.typesafe.config.ConfigFactory;
import io.botengine.job.RunnerClient;
import io.botengine.job.RunnerFrame;
import io.botengine.job.RunnerSettings;
import io.botengine.testing.LogCapture;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapture.class)
class RunnerEmulatorTest {
  private static final String KEY = "emulator-key";
  private static final AtomicLong users = new AtomicLong(5000);

  private static ActorTestKit testKit;
  private static ActorSystem<Void> system;
  private static RunnerEmulator emulator;
  private static RunnerClient client;

  @BeforeAll
  static void start() {
    testKit =
        ActorTestKit.create(
            "RunnerEmulatorTest",
            ConfigFactory.parseString("akka.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    system = testKit.system();
    emulator = RunnerEmulator.start(system, "127.0.0.1", 0, KEY);
    client =
        new RunnerClient(
            system, RunnerSettings.create(system).withUrl(emulator.baseUrl()).withApiKey(KEY));
  }

  @AfterAll
  static void stop() {
    emulator.close();
    testKit.shutdownTestKit();
  }

  @Test
  void answersHealthWithoutAKey() {
    assertEquals(200, send(HttpRequest.GET(emulator.baseUrl() + "/health")).status().intValue());
  }

  @Test
  void answersAnUploadRepeatedWithTheSameIdempotencyKeyWithTheSameTask() {
    long user = users.incrementAndGet();
    String first = await(client.upload(user, "cv.pdf", new byte[] {1}, "job-42")).taskId();
    String again = await(client.upload(user, "cv.pdf", new byte[] {1}, "job-42")).taskId();
    String other = await(client.upload(user, "cv.pdf", new byte[] {1}, "job-43")).taskId();
    assertEquals(first, again);
    assertTrue(!first.equals(other), "another job gets another task");
  }

  @Test
  void refusesRequestsWithoutTheRightKey() {
    String task = await(client.upload(users.incrementAndGet(), "cv.pdf", new byte[] {1})).taskId();
    for (String path : List.of("/api/tasks/" + task, "/api/tasks/" + task + "/stream")) {
      assertEquals(401, send(HttpRequest.GET(emulator.baseUrl() + path)).status().intValue());
      HttpRequest wrongKey =
          HttpRequest.GET(emulator.baseUrl() + path)
              .addHeader(RawHeader.create("X-API-Key", "wrong"));
      assertEquals(401, send(wrongKey).status().intValue());
    }
    assertEquals(0, emulator.streamConnections(task));
  }

  @Test
  void refusesAnUploadWithoutTelegramId() {
    HttpRequest request =
        HttpRequest.POST(emulator.baseUrl() + "/analyze-cv")
            .addHeader(RawHeader.create("X-API-Key", KEY))
            .withEntity(
                Multiparts.createFormDataFromParts(
                        Multiparts.createFormDataBodyPartStrict(
                            "file", HttpEntities.create("cv"), Map.of("filename", "cv.txt")))
                    .toEntity());
    assertEquals(422, send(request).status().intValue());
  }

  @Test
  void answersUnknownTasksWith404() {
    HttpRequest request =
        HttpRequest.GET(emulator.baseUrl() + "/api/tasks/nope/stream")
            .addHeader(RawHeader.create("X-API-Key", KEY));
    assertEquals(404, send(request).status().intValue());
  }

  @Test
  void letsAUsersScenarioWinOverTheNextScenario() {
    long special = users.incrementAndGet();
    emulator.nextScenario(RunnerScenario.UPLOAD_500);
    emulator.scenarioFor(special, RunnerScenario.SEED_001);
    try {
      assertTrue(await(client.upload(special, "cv.pdf", new byte[] {1})).taskId().length() > 0);
      long other = users.incrementAndGet();
      assertTrue(
          client
              .upload(other, "cv.pdf", new byte[] {1})
              .toCompletableFuture()
              .handle((upload, failure) -> failure != null)
              .join());
      assertEquals(
          null,
          emulator.uploads().stream()
              .filter(u -> u.telegramId() == other)
              .findFirst()
              .orElseThrow()
              .taskId());
    } finally {
      emulator.nextScenario(RunnerScenario.SEED_001);
    }
  }

  @Test
  void replaysTheFramesOfACompletedTask() {
    String task = await(client.upload(users.incrementAndGet(), "cv.pdf", new byte[] {1})).taskId();
    List<RunnerFrame> first =
        await(client.stream(task, Optional.empty()).runWith(Sink.seq(), system));
    List<RunnerFrame> again =
        await(client.stream(task, Optional.empty()).runWith(Sink.seq(), system));

    assertEquals(7, first.size());
    assertEquals(first, again);
    assertEquals(2, emulator.streamConnections(task));
    assertEquals(List.of("", ""), emulator.lastEventIds(task));
  }

  @Test
  void streamsAnAnswerAsDeltasWithoutIdsThenItsCompleteOutput() {
    long user = users.incrementAndGet();
    String analysis = "## Анализ\n\nСильные стороны: Java, Akka.";
    emulator.scenarioFor(user, RunnerScenario.streamed("S", analysis, Duration.ZERO));
    String task = await(client.upload(user, "cv.pdf", new byte[] {1})).taskId();
    List<RunnerFrame> frames =
        await(client.stream(task, Optional.empty()).runWith(Sink.seq(), system));

    List<RunnerFrame.Delta> deltas = frames.stream()
        .filter(RunnerFrame.Delta.class::isInstance).map(RunnerFrame.Delta.class::cast).toList();
    assertEquals(analysis, deltas.stream().map(RunnerFrame.Delta::text)
        .collect(java.util.stream.Collectors.joining()));
    assertTrue(deltas.size() > 3);
    assertTrue(deltas.stream().allMatch(d -> d.index() == 2 && d.eventId() == null));
    RunnerFrame.Output complete = (RunnerFrame.Output) frames.get(deltas.size() + 1);
    assertEquals(2L, complete.index());
    assertEquals(analysis, complete.content());
    assertEquals(String.valueOf(deltas.size() + 2), complete.eventId());
  }

  @Test
  void countsOpenStreamsUntilTheClientLeaves() {
    long user = users.incrementAndGet();
    emulator.scenarioFor(user, RunnerScenario.STALL);
    String task = await(client.upload(user, "cv.pdf", new byte[] {1})).taskId();
    int before = emulator.openStreams();
    var running =
        client.stream(task, Optional.empty())
            .toMat(TestSink.<RunnerFrame>create(system), Keep.both())
            .run(system);
    KillSwitch killSwitch = running.first();
    TestSubscriber.Probe<RunnerFrame> probe = running.second();
    probe.request(2);
    probe.expectNext();
    probe.expectNext();
    assertEquals(before + 1, emulator.openStreams());

    killSwitch.shutdown();
    probe.expectComplete();
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        () -> {
          assertEquals(before, emulator.openStreams());
          return null;
        });
  }

  @Test
  void reportsAStalledTaskRunningAndACancelledOneCancelled() {
    long user = users.incrementAndGet();
    emulator.scenarioFor(user, RunnerScenario.STALL);
    String task = await(client.upload(user, "cv.pdf", new byte[] {1})).taskId();

    assertEquals(RunnerClient.TaskStatus.State.QUEUED, await(client.status(task)).state());
    assertEquals(RunnerClient.TaskStatus.State.RUNNING, await(client.status(task)).state());
    await(client.cancel(task));
    assertEquals(RunnerClient.TaskStatus.State.CANCELLED, await(client.status(task)).state());
    assertEquals(
        List.of(new RunnerFrame.Cancelled()),
        await(client.stream(task, Optional.empty()).runWith(Sink.seq(), system)));
  }

  private static HttpResponse send(HttpRequest request) {
    HttpResponse response = await(Http.get(system).singleRequest(request));
    response.discardEntityBytes(system);
    return response;
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
