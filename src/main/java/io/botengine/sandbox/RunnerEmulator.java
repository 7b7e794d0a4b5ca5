package io.botengine.sandbox;

import static akka.http.javadsl.server.Directives.complete;
import static akka.http.javadsl.server.Directives.concat;
import static akka.http.javadsl.server.Directives.entity;
import static akka.http.javadsl.server.Directives.get;
import static akka.http.javadsl.server.Directives.onSuccess;
import static akka.http.javadsl.server.Directives.optionalHeaderValueByName;
import static akka.http.javadsl.server.Directives.path;
import static akka.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static akka.http.javadsl.server.Directives.pathPrefix;
import static akka.http.javadsl.server.Directives.post;
import static java.nio.charset.StandardCharsets.UTF_8;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.Multipart;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.stream.Materializer;
import akka.stream.SystemMaterializer;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-memory Runner speaking docs/runner-protocol.md over real HTTP, for tests, the sandbox and
 * benchmarks. Each upload becomes a task that follows a {@link RunnerScenario} (per user, else the
 * next-upload default, else {@link RunnerScenario#SEED_001}); its stream can be opened again at any
 * time and replays the task's frames (after {@code Last-Event-ID} when the scenario honours it).
 * Records what the engine did (uploads, cancels, stream connections) for assertions. Tasks live
 * until {@link #close()}, which unbinds and closes every connection.
 */
public final class RunnerEmulator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RunnerEmulator.class);
  private static final ContentType EVENT_STREAM = ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM);
  private static final Duration DROP_GRACE = Duration.ofMillis(200);
  private static final ByteString CANCELLED_FRAME =
      ByteString.fromString("event: cancelled\ndata: {\"type\":\"cancelled\"}\n\n");

  /** A file the engine uploaded; {@code taskId} is null when the upload was refused. */
  public record Upload(long telegramId, String fileName, byte[] content, String taskId) {}

  /** Hears each frame as it is handed to a stream's connection; must not block. */
  public interface FrameListener {
    /** Frame {@code position} (1-based, its SSE id) of task {@code taskId} was just written. */
    void written(String taskId, int position);
  }

  private final String apiKey;
  private final Materializer materializer;
  private final Executor executor;
  private final Map<String, Task> tasks = new ConcurrentHashMap<>();
  /** Users whose tasks send a new connection without Last-Event-ID only what is produced from now. */
  private final Set<Long> newEventsOnly = ConcurrentHashMap.newKeySet();

  /** Tasks by the Idempotency-Key of the upload that made them. */
  private final Map<String, Task> byKey = new ConcurrentHashMap<>();
  private final Map<Long, RunnerScenario> perUser = new ConcurrentHashMap<>();
  private final List<Upload> uploads = new CopyOnWriteArrayList<>();
  private final List<String> cancelled = new CopyOnWriteArrayList<>();
  private final AtomicInteger openStreams = new AtomicInteger();
  private final List<FrameListener> frameListeners = new CopyOnWriteArrayList<>();
  private volatile RunnerScenario next = RunnerScenario.SEED_001;
  private volatile ServerBinding binding;

  private RunnerEmulator(ActorSystem<?> system, String apiKey) {
    this.apiKey = apiKey;
    this.materializer = SystemMaterializer.get(system).materializer();
    this.executor = system.executionContext();
  }

  /** Binds an emulator (port 0: any free port) and waits until it is bound; for tests and main. */
  public static RunnerEmulator start(ActorSystem<?> system, String host, int port, String apiKey) {
    try {
      return bind(system, host, port, apiKey).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("Runner emulator could not bind " + host + ":" + port, e);
    }
  }

  /** Binds an emulator without waiting (for use inside an actor). */
  public static CompletionStage<RunnerEmulator> bind(
      ActorSystem<?> system, String host, int port, String apiKey) {
    RunnerEmulator emulator = new RunnerEmulator(system, apiKey);
    return Http.get(system)
        .newServerAt(host, port)
        .adaptSettings(
            settings ->
                settings
                    .withTimeouts(
                        settings
                            .getTimeouts()
                            .withIdleTimeout(scala.concurrent.duration.Duration.Inf()))
                    .withMaxConnections(65536)
                    .withBacklog(1024))
        .bind(emulator.route())
        .thenApplyAsync(
            bound -> {
              emulator.binding = bound;
              log.info("Runner emulator listening on {}", emulator.baseUrl());
              return emulator;
            },
            emulator.executor);
  }

  /** {@code http://host:port}, what {@code bot.runner.url} should be. */
  public String baseUrl() {
    return "http://" + binding.localAddress().getHostString() + ":" + port();
  }

  /** The bound port. */
  public int port() {
    return binding.localAddress().getPort();
  }

  /** The scenario of every following upload (unless the user has one of its own). */
  public void nextScenario(RunnerScenario scenario) {
    next = scenario;
  }

  /** The scenario of every following upload of this user; wins over {@link #nextScenario}. */
  public void scenarioFor(long telegramId, RunnerScenario scenario) {
    perUser.put(telegramId, scenario);
  }

  /** Every upload received, in order, refused ones included. */
  public List<Upload> uploads() {
    return List.copyOf(uploads);
  }

  /** Task ids the engine asked to cancel, in order (unknown ids included). */
  public List<String> cancelled() {
    return List.copyOf(cancelled);
  }

  /** How many times the stream of this task was requested (refused requests included). */
  public int streamConnections(String taskId) {
    Task task = tasks.get(taskId);
    return task == null ? 0 : task.connections.get();
  }

  /**
   * From now on, this user's new tasks behave as a Runner that does not replay: a reconnection
   * without {@code Last-Event-ID} gets only what the task produces from then on (what it produced
   * while nobody listened is gone); with one, it resumes after it.
   */
  public void newEventsOnlyFor(long userId) {
    newEventsOnly.add(userId);
  }

  /** The {@code Last-Event-ID} of each stream request of this task ("" when absent). */
  public List<String> lastEventIds(String taskId) {
    Task task = tasks.get(taskId);
    return task == null ? List.of() : List.copyOf(task.lastEventIds);
  }

  /** Calls the listener for every frame written, on stream threads (for latency measurements). */
  public void onFrameWritten(FrameListener listener) {
    frameListeners.add(listener);
  }

  /** Streams open right now, over all tasks. */
  public int openStreams() {
    return openStreams.get();
  }

  /** Unbinds and closes every connection; waits a few seconds at most. */
  @Override
  public void close() {
    try {
      binding.terminate(Duration.ofSeconds(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("Runner emulator did not stop cleanly: {}", e.toString());
    }
  }

  /** One job: its scenario and what happened to it. */
  private static final class Task {
    final String id;
    final RunnerScenario scenario;
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger polls = new AtomicInteger();
    final List<String> lastEventIds = Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<ByteString> cancellation = new CompletableFuture<>();
    /** Completed when the upload that made this task comes again with its Idempotency-Key. */
    final CompletableFuture<Done> uploadRepeated = new CompletableFuture<>();
    final long startedAt = System.nanoTime();
    final boolean newEventsOnly;
    volatile boolean finished;

    Task(String id, RunnerScenario scenario) {
      this(id, scenario, false);
    }

    Task(String id, RunnerScenario scenario, boolean newEventsOnly) {
      this.id = id;
      this.scenario = scenario;
      this.newEventsOnly = newEventsOnly;
    }

    /**
     * The position the task's production has reached by now, at the scenario's pace: what a
     * Runner that does not replay starts a new connection from (the final frame always comes).
     */
    int produced(int total) {
      long paceNanos = scenario.pacing().toNanos();
      long elapsed = System.nanoTime() - startedAt;
      long reached = paceNanos == 0 ? total : elapsed / paceNanos;
      return (int) Math.min(total - 1, reached);
    }

    boolean done() {
      return finished || polls.get() > scenario.pollsUntilDone();
    }
  }

  private Route route() {
    return concat(
        path("health", () -> get(() -> complete("OK"))),
        optionalHeaderValueByName(
            "X-API-Key",
            key ->
                key.filter(apiKey::equals).isPresent()
                    ? concat(
                        path(
                            "analyze-cv",
                            () ->
                                post(
                                    () ->
                                        optionalHeaderValueByName(
                                            "Idempotency-Key",
                                            idempotencyKey ->
                                                entity(
                                                    Unmarshaller.entityToMultipartFormData(),
                                                    form -> onUpload(form, idempotencyKey))))),
                        pathPrefix(
                            "api", () -> pathPrefix("tasks", () -> pathPrefix(this::taskRoute))))
                    : json(401, "detail", "Invalid API key")));
  }

  private Route taskRoute(String taskId) {
    return concat(
        pathEndOrSingleSlash(() -> get(() -> withTask(taskId, this::onStatus))),
        path(
            "stream",
            () ->
                get(
                    () ->
                        optionalHeaderValueByName(
                            "Last-Event-ID",
                            last -> withTask(taskId, task -> onStream(task, last))))),
        path("result", () -> get(() -> withTask(taskId, this::onResult))),
        path("cancel", () -> post(() -> onCancel(taskId))));
  }

  private Route withTask(String taskId, Function<Task, Route> inner) {
    Task task = tasks.get(taskId);
    return task == null ? json(404, "detail", "Task not found") : inner.apply(task);
  }

  private Route onUpload(Multipart.FormData form, Optional<String> idempotencyKey) {
    return onSuccess(
        form.toStrict(10_000, materializer),
        strict -> {
          byte[] content = null;
          String fileName = null;
          String telegramId = null;
          for (Multipart.FormData.BodyPart.Strict part : strict.getStrictParts()) {
            if ("file".equals(part.getName())) {
              content = part.getEntity().getData().toArray();
              fileName = part.getFilename().orElse("file");
            } else if ("telegram_id".equals(part.getName())) {
              telegramId = part.getEntity().getData().utf8String().strip();
            }
          }
          if (content == null || telegramId == null || !telegramId.matches("-?\\d{1,19}")) {
            return json(422, "detail", "file and a numeric telegram_id are required");
          }
          long user = Long.parseLong(telegramId);
          Task earlier = idempotencyKey.map(byKey::get).orElse(null);
          if (earlier != null) {
            log.info("Emulated Runner: upload repeated with the same Idempotency-Key, task {}",
                earlier.id);
            uploads.add(new Upload(user, fileName, content, earlier.id));
            earlier.uploadRepeated.complete(Done.getInstance());
            ObjectNode body = Json.MAPPER.createObjectNode().put("task_id", earlier.id);
            return json(200, body.put("queue_position", 1));
          }
          RunnerScenario scenario = perUser.getOrDefault(user, next);
          if (scenario.upload() == RunnerScenario.UploadReply.ERROR_500) {
            uploads.add(new Upload(user, fileName, content, null));
            return json(500, "detail", "Internal Server Error");
          }
          Task task = new Task(UUID.randomUUID().toString(), scenario,
              newEventsOnly.contains(user));
          tasks.put(task.id, task);
          idempotencyKey.ifPresent(key -> byKey.put(key, task));
          uploads.add(new Upload(user, fileName, content, task.id));
          log.info("Emulated Runner: task {} for user {} runs {}", task.id, user, scenario.name());
          if (scenario.upload() == RunnerScenario.UploadReply.NO_TASK_ID) {
            return json(200, "status", "accepted");
          }
          long waiting =
              tasks.values().stream().filter(t -> !t.finished && !t.cancellation.isDone()).count();
          ObjectNode body = Json.MAPPER.createObjectNode().put("task_id", task.id);
          body.put("queue_position", Math.max(1, waiting));
          if (scenario.upload() == RunnerScenario.UploadReply.HELD_UNTIL_REPEATED) {
            return onSuccess(
                task.uploadRepeated.completeOnTimeout(Done.getInstance(), 1, TimeUnit.MINUTES),
                repeated -> json(200, body));
          }
          return json(200, body);
        });
  }

  private Route onStream(Task task, Optional<String> lastEventId) {
    int connection = task.connections.incrementAndGet();
    task.lastEventIds.add(lastEventId.orElse(""));
    RunnerScenario scenario = task.scenario;
    if (scenario.streamStatus() != 200) {
      return json(scenario.streamStatus(), "detail", "Stream unavailable");
    }
    Source<ByteString, NotUsed> body;
    if (task.cancellation.isDone()) {
      body = Source.single(CANCELLED_FRAME);
    } else {
      body =
          frames(task, connection, lastEventId)
              .merge(Source.completionStage(task.cancellation), true);
    }
    Source<ByteString, NotUsed> counted =
        body.watchTermination(
            (notUsed, done) -> {
              openStreams.incrementAndGet();
              done.whenCompleteAsync((d, failure) -> openStreams.decrementAndGet(), executor);
              return notUsed;
            });
    return complete(
        HttpResponse.create()
            .withEntity(HttpEntities.createChunked(EVENT_STREAM, counted))
            .addHeader(RawHeader.create("Cache-Control", "no-cache")));
  }

  private Source<ByteString, NotUsed> frames(
      Task task, int connection, Optional<String> lastEventId) {
    RunnerScenario scenario = task.scenario;
    int total = scenario.frames().size();
    int from = task.newEventsOnly && lastEventId.isEmpty() && connection > 1
        ? task.produced(total)
        : scenario.honourLastEventId() ? resumePosition(lastEventId, total) : 0;
    boolean interrupted =
        scenario.interruptAfter() > 0 && connection <= scenario.interruptedConnections();
    int until = interrupted ? Math.max(from, Math.min(total, scenario.interruptAfter())) : total;
    List<ByteString> chunks = new ArrayList<>();
    for (int position = from; position < until; position++) {
      chunks.add(render(scenario, position, task.id));
    }
    ByteString last =
        until == total && !scenario.stallAtEnd() && !chunks.isEmpty()
            ? chunks.get(chunks.size() - 1)
            : null;
    Source<ByteString, NotUsed> paced =
        scenario.pacing().isZero()
            ? Source.from(chunks)
            : Source.from(chunks).throttle(1, scenario.pacing());
    Source<ByteString, NotUsed> sent =
        paced
            .zipWithIndex()
            .map(
                numbered -> {
                  ByteString chunk = numbered.first();
                  if (chunk == last) {
                    task.finished = true;
                  }
                  int position = from + (int) (long) numbered.second() + 1;
                  for (FrameListener listener : frameListeners) {
                    listener.written(task.id, position);
                  }
                  return chunk;
                });
    if (interrupted && scenario.interruption() == RunnerScenario.Interruption.DROP) {
      return sent.concat(
          Source.single(ByteString.emptyByteString())
              .initialDelay(DROP_GRACE)
              .map(
                  ignored -> {
                    throw new EmulatedDrop();
                  }));
    }
    if (!interrupted && scenario.stallAtEnd()) {
      return sent.concat(Source.never());
    }
    return sent;
  }

  private static int resumePosition(Optional<String> lastEventId, int total) {
    try {
      return lastEventId
          .map(id -> Math.min(total, Math.max(0, Integer.parseInt(id.strip()))))
          .orElse(0);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static ByteString render(RunnerScenario scenario, int position, String taskId) {
    RunnerScenario.Frame frame = scenario.frames().get(position);
    if (frame.raw()) {
      return ByteString.fromString(frame.data());
    }
    StringBuilder text = new StringBuilder();
    if (frame.event() != null) {
      text.append("event: ").append(frame.event()).append('\n');
    }
    if (scenario.sendIds() && !RunnerScenario.DELTA_EVENT.equals(frame.event())) {
      text.append("id: ").append(position + 1).append('\n');
    }
    String data = frame.data().replace(RunnerScenario.TASK_ID, taskId);
    text.append("data: ").append(data).append("\n\n");
    return ByteString.fromString(text.toString());
  }

  private Route onStatus(Task task) {
    int polls = task.polls.incrementAndGet();
    ObjectNode body = Json.MAPPER.createObjectNode();
    if (task.cancellation.isDone()) {
      body.put("status", "cancelled");
    } else if (task.done()) {
      body.put("status", task.scenario.finalStatus());
      if (task.scenario.error() != null) {
        body.put("error", task.scenario.error());
      }
    } else {
      body.put("status", polls == 1 ? "queued" : "running");
    }
    return json(200, body);
  }

  private Route onResult(Task task) {
    boolean completed =
        !task.cancellation.isDone()
            && task.done()
            && "completed".equals(task.scenario.finalStatus());
    return completed
        ? json(200, "content", task.scenario.resultContent())
        : json(404, "detail", "Result not ready");
  }

  private Route onCancel(String taskId) {
    cancelled.add(taskId);
    Task task = tasks.get(taskId);
    if (task == null) {
      return json(404, "detail", "Task not found");
    }
    task.cancellation.complete(CANCELLED_FRAME);
    log.info("Emulated Runner: task {} cancelled", taskId);
    return json(200, "status", "cancelled");
  }

  private static Route json(int status, String key, String value) {
    return json(status, Json.MAPPER.createObjectNode().put(key, value));
  }

  private static Route json(int status, ObjectNode body) {
    return complete(
        HttpResponse.create()
            .withStatus(status)
            .withEntity(ContentTypes.APPLICATION_JSON, body.toString().getBytes(UTF_8)));
  }

  /** Fails a response stream so the server aborts the connection. */
  private static final class EmulatedDrop extends RuntimeException {
    EmulatedDrop() {
      super("emulated connection drop", null, false, false);
    }
  }
}
