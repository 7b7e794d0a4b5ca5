package io.botengine.job;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.HttpsConnectionContext;
import akka.http.javadsl.OutgoingConnection;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.Multiparts;
import akka.http.javadsl.model.RequestEntity;
import akka.http.javadsl.model.ResponseEntity;
import akka.http.javadsl.model.Uri;
import akka.http.javadsl.model.headers.LastEventId;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.http.javadsl.settings.ClientConnectionSettings;
import akka.http.javadsl.settings.ConnectionPoolSettings;
import akka.pattern.Patterns;
import akka.stream.KillSwitches;
import akka.stream.Materializer;
import akka.stream.SystemMaterializer;
import akka.stream.UniqueKillSwitch;
import akka.stream.alpakka.sse.javadsl.EventSource;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.botengine.BoundedCalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one client of the Runner (docs/runner-protocol.md): upload a CV, follow a job's event
 * stream, poll, cancel, check health. Every call returns at once ({@link CompletionStage} or {@link
 * Source}); nothing blocks. Short calls share a modest connection pool ({@code
 * bot.runner.request-pool}). Every event stream opens its own connection with Akka HTTP's
 * connection-level API: no pool, hence no pool limits, queue or shared backoff, and connections
 * that never idle out, so thousands of quiet streams can be open at once and {@code
 * bot.runner.stream-idle-timeout} is their only idle limit. Thread-safe; lives as long as the actor
 * system.
 */
public final class RunnerClient {
  private static final Logger log = LoggerFactory.getLogger(RunnerClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String POLL_RESULT_FILE = "cv_result.md";
  private static final ContentType EVENT_STREAM = ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM);

  /** An accepted upload: the Runner's task id and queue position (1 when it gave none). */
  public record Upload(String taskId, int queuePosition) {}

  /** Answer of {@code GET /api/tasks/{id}}; {@code error} is the Runner's, or null. */
  public record TaskStatus(State state, String error) {
    /** A task's state; {@link #UNKNOWN} for values the protocol does not list. */
    public enum State {
      QUEUED,
      RUNNING,
      COMPLETED,
      FAILED,
      CANCELLED,
      UNKNOWN;

      /** True for COMPLETED, FAILED and CANCELLED. */
      public boolean terminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
      }
    }
  }

  private final akka.actor.ActorSystem classic;
  private final RunnerSettings settings;
  private final Http http;
  private final HttpsConnectionContext https;
  private final Materializer materializer;
  private final ConnectionPoolSettings requestPool;
  /**
   * Requests wait here for one of the pool's connections: past its max-open-requests the pool
   * refuses them (BufferOverflowException), which failed 838 of 10,000 uploads sent at once.
   */
  private final BoundedCalls calls;
  private final ClientConnectionSettings streamConnection;
  private final Flow<HttpRequest, HttpResponse, CompletionStage<OutgoingConnection>> streamFlow;
  private final Optional<HttpHeader> apiKeyHeader;
  private final AtomicLong skippedFrames = new AtomicLong();

  /** A client of the Runner at {@code settings.url()}. */
  public RunnerClient(ActorSystem<?> system, RunnerSettings settings) {
    if (settings.url().isEmpty()) {
      throw new IllegalArgumentException("bot.runner.url is not set");
    }
    this.classic = system.classicSystem();
    this.settings = settings;
    this.http = Http.get(classic);
    this.https = http.defaultClientHttpsContext();
    this.materializer = SystemMaterializer.get(system).materializer();
    Config root = system.settings().config();
    checkSseLimits(root, settings);
    this.requestPool =
        ConnectionPoolSettings.create(
            settings.requestPool().atPath("akka.http.host-connection-pool").withFallback(root));
    this.calls = new BoundedCalls(requestPool.getMaxConnections());
    this.streamConnection =
        ClientConnectionSettings.create(
            streamOverrides(root, settings).atPath("akka.http.client").withFallback(root));
    Uri base = Uri.create(settings.url());
    var connectionTo =
        http.connectionTo(base.host().address())
            .toPort(base.port())
            .withClientConnectionSettings(streamConnection);
    this.streamFlow = "https".equals(base.scheme()) ? connectionTo.https() : connectionTo.http();
    this.apiKeyHeader =
        settings.apiKey().isEmpty()
            ? Optional.empty()
            : Optional.of(RawHeader.create("X-API-Key", settings.apiKey()));
    log.info(
        "Runner client for {}: stream idle limit {}, {} consecutive failures allowed",
        io.botengine.LogSafe.url(settings.url()),
        settings.streamIdleTimeout(),
        settings.streamMaxFailures());
  }

  /** A client configured by {@code bot.runner}. */
  public static RunnerClient create(ActorSystem<?> system) {
    return new RunnerClient(system, RunnerSettings.create(system));
  }

  /** The settings this client was built with. */
  public RunnerSettings settings() {
    return settings;
  }

  /** Connection settings of the event streams (no idle timeout of their own). */
  public ClientConnectionSettings streamConnectionSettings() {
    return streamConnection;
  }

  /** Frames received but not understood (non-JSON, unknown type, invalid output) since start. */
  public long skippedFrames() {
    return skippedFrames.get();
  }

  /**
   * Starts a job: multipart POST of the file and the user id. Fails with {@link
   * RunnerException.UploadFailed} on refusal, non-200, a body without task id, or no answer within
   * {@code upload-timeout}. Never retried: the Runner may have accepted a POST that got no answer.
   */
  public CompletionStage<Upload> upload(long telegramId, String fileName, byte[] content) {
    String name = fileName == null || fileName.isBlank() ? "cv" : RunnerFrame.safeFileName(fileName);
    RequestEntity entity =
        Multiparts.createFormDataFromParts(
                Multiparts.createFormDataBodyPartStrict(
                    "file",
                    HttpEntities.create(contentTypeOf(name), content),
                    Map.of("filename", name)),
                Multiparts.createFormDataBodyPartStrict(
                    "telegram_id", HttpEntities.create(Long.toString(telegramId))))
            .toEntity();
    HttpRequest request =
        withKey(HttpRequest.POST(settings.url() + "/analyze-cv")).withEntity(entity);
    CompletionStage<Upload> upload =
        settled(
            call(request, settings.uploadTimeout(), RunnerException.UploadFailed::new)
                .thenApply(this::parseUpload));
    upload.whenComplete(
        (accepted, failure) -> {
          if (failure == null) {
            log.info(
                "Runner accepted the CV of user {} ({} bytes) as task {}, queue position {}",
                telegramId,
                content.length,
                accepted.taskId(),
                accepted.queuePosition());
          } else {
            log.warn("Upload of the CV of user {} failed: {}", telegramId, reason(failure));
          }
        });
    return upload;
  }

  /**
   * The job's frames, as the Runner sends them, until a terminal frame (Completed, Failed or
   * Cancelled), after which the source completes and the connection is closed. A stream that ends
   * or breaks before that is reconnected after a backoff ({@code stream-min/max-backoff}), sending
   * {@code Last-Event-ID} when the Runner gave ids (or {@code lastEventId}, to resume a job another
   * node followed). Fails with {@link RunnerException.StreamUnavailable} after {@code
   * stream-max-failures} consecutive failed attempts, and with {@link RunnerException.StreamIdle}
   * when no event at all arrived for {@code stream-idle-timeout}. Frames not understood are dropped
   * and counted ({@link #skippedFrames()}). Not de-duplicated: a Runner that ignores {@code
   * Last-Event-ID} replays frames already seen, so outputs may repeat (and arrive out of order);
   * the caller keeps outputs by index. Each materialization is a separate connection.
   */
  public Source<RunnerFrame, UniqueKillSwitch> stream(String taskId, Optional<String> lastEventId) {
    Uri uri = Uri.create(taskUrl(taskId) + "/stream");
    return Source.<RunnerFrame, NotUsed>fromMaterializer(
            (mat, attributes) -> frames(uri, taskId, lastEventId.filter(id -> !id.isEmpty()), mat))
        .viaMat(KillSwitches.<RunnerFrame>single(), Keep.right());
  }

  /**
   * Polls the job's status every {@code poll-interval}: on completed emits the result as the
   * document {@value #POLL_RESULT_FILE} and {@link RunnerFrame.Completed}; on failed {@link
   * RunnerFrame.Failed}; on cancelled {@link RunnerFrame.Cancelled}; then completes. A poll that
   * fails is tried again at the next tick. Fails with {@link RunnerException.PollTimeout} after
   * {@code poll-max-duration}.
   */
  public Source<RunnerFrame, NotUsed> poll(String taskId) {
    return Source.tick(Duration.ZERO, settings.pollInterval(), taskId)
        .mapAsync(1, this::pollOnce)
        .filter(status -> status.isPresent() && status.get().state().terminal())
        .take(1)
        .flatMapConcat(status -> finalFrames(taskId, status.get()))
        .completionTimeout(settings.pollMaxDuration())
        .mapError(
            TimeoutException.class,
            e ->
                new RunnerException.PollTimeout(
                    taskId, "no final status within " + settings.pollMaxDuration()))
        .mapMaterializedValue(cancellable -> NotUsed.getInstance());
  }

  /** {@code GET /api/tasks/{id}}; fails with {@link RunnerException.RequestFailed}. */
  public CompletionStage<TaskStatus> status(String taskId) {
    HttpRequest request = withKey(HttpRequest.GET(taskUrl(taskId)));
    return settled(
        call(request, settings.requestTimeout(), RunnerException.RequestFailed::new)
            .thenApply(
                reply -> {
                  JsonNode json = reply.okJson("status of task " + taskId);
                  return new TaskStatus(state(text(json, "status")), text(json, "error"));
                }));
  }

  /** {@code GET /api/tasks/{id}/result}, its {@code content}; fails with RequestFailed. */
  public CompletionStage<String> result(String taskId) {
    HttpRequest request = withKey(HttpRequest.GET(taskUrl(taskId) + "/result"));
    return settled(
        call(request, settings.requestTimeout(), RunnerException.RequestFailed::new)
            .thenApply(
                reply -> {
                  String content = text(reply.okJson("result of task " + taskId), "content");
                  if (content == null) {
                    throw new RunnerException.RequestFailed(
                        "result of task " + taskId + " has no content");
                  }
                  return content;
                }));
  }

  /** {@code POST /api/tasks/{id}/cancel}, best effort: completes normally whatever the answer. */
  public CompletionStage<Done> cancel(String taskId) {
    HttpRequest request = withKey(HttpRequest.POST(taskUrl(taskId) + "/cancel"));
    return call(request, settings.requestTimeout(), RunnerException.RequestFailed::new)
        .handle(
            (reply, failure) -> {
              if (failure == null) {
                log.info("Runner answered HTTP {} to cancelling task {}", reply.status(), taskId);
              } else {
                log.warn("Cancelling task {} failed: {}", taskId, reason(failure));
              }
              return Done.getInstance();
            });
  }

  /** {@code GET /health}: true on 200, false on anything else, errors and timeouts included. */
  public CompletionStage<Boolean> healthy() {
    HttpRequest request = withKey(HttpRequest.GET(settings.url() + "/health"));
    return call(request, settings.requestTimeout(), RunnerException.RequestFailed::new)
        .handle((reply, failure) -> failure == null && reply.status() == 200);
  }

  private Source<RunnerFrame, NotUsed> frames(
      Uri uri, String taskId, Optional<String> lastEventId, Materializer mat) {
    Attempts attempts = new Attempts(taskId, lastEventId.orElse(null), mat);
    return EventSource.create(uri, attempts::send, lastEventId, mat)
        .map(attempts::onEvent)
        .merge(Source.completionStage(attempts.gaveUp))
        .idleTimeout(settings.streamIdleTimeout())
        .mapError(
            TimeoutException.class,
            e ->
                new RunnerException.StreamIdle(
                    taskId, "no event for " + settings.streamIdleTimeout()))
        .filter(frame -> keep(taskId, frame))
        .takeWhile(frame -> !frame.terminal(), true)
        .watchTermination(
            (notUsed, done) -> {
              done.whenCompleteAsync((d, failure) -> attempts.stop(failure), classic.dispatcher());
              return notUsed;
            });
  }

  private boolean keep(String taskId, RunnerFrame frame) {
    if (frame instanceof RunnerFrame.Skipped skipped) {
      skippedFrames.incrementAndGet();
      log.debug("Skipped a frame of task {}: {}", taskId, skipped.reason());
      return false;
    }
    if (frame instanceof RunnerFrame.Output output) {
      log.debug("Output of task {}: index {}, {}", taskId, output.index(), output.kind());
    } else if (frame.terminal()) {
      log.info("Task {} ended on the Runner: {}", taskId, frame.getClass().getSimpleName());
    }
    return true;
  }

  /**
   * One materialized stream's connection attempts. Alpakka's EventSource calls {@link #send} for
   * every (re)connection and never reports a failure itself, so this is where the backoff, the
   * Last-Event-ID and the count of consecutive failed attempts live. An attempt failed when it was
   * refused, answered non-200, or ended without delivering anything new (a replay of ids already
   * seen, or fewer id-less events than an earlier connection), so a Runner that loops on replays
   * gives up like one that is down.
   */
  private final class Attempts {
    final String taskId;
    final Materializer mat;
    final CompletableFuture<RunnerFrame> gaveUp = new CompletableFuture<>();
    final AtomicInteger failures = new AtomicInteger();
    final Set<String> seenIds = new HashSet<>();
    volatile String lastEventId;
    volatile boolean stopped;
    volatile boolean connected;
    volatile boolean progressed;
    volatile boolean ended;
    int attempt;
    int eventsThisConnection;
    int mostEventsPerConnection;

    Attempts(String taskId, String lastEventId, Materializer mat) {
      this.taskId = taskId;
      this.lastEventId = lastEventId;
      this.mat = mat;
    }

    CompletionStage<HttpResponse> send(HttpRequest request) {
      try {
        if (stopped || ended || gaveUp.isDone()) {
          return new CompletableFuture<>();
        }
        attempt++;
        if (attempt > 1 && connected && !progressed && failed("ended without anything new")) {
          return new CompletableFuture<>();
        }
        connected = false;
        progressed = false;
        mostEventsPerConnection = Math.max(mostEventsPerConnection, eventsThisConnection);
        eventsThisConnection = 0;
        HttpRequest effective = withKey(request);
        String resumeFrom = lastEventId;
        if (resumeFrom != null) {
          effective =
              effective.removeHeader("Last-Event-ID").addHeader(LastEventId.create(resumeFrom));
        }
        if (attempt == 1) {
          return connect(effective);
        }
        Duration delay = backoff(failures.get());
        log.info(
            "Reconnecting the stream of task {} in {} ms (attempt {}, Last-Event-ID {})",
            taskId,
            delay.toMillis(),
            attempt,
            resumeFrom);
        HttpRequest delayed = effective;
        return onDispatcher(
            Patterns.after(
                delay,
                classic,
                () -> stopped || ended ? new CompletableFuture<HttpResponse>() : connect(delayed)));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    private CompletionStage<HttpResponse> connect(HttpRequest request) {
      return onDispatcher(
              Source.single(request.withUri(request.getUri().toRelative()))
                  .via(streamFlow)
                  .runWith(Sink.head(), mat))
          .handle(
              (response, failure) -> {
                if (failure != null) {
                  return failed("connection failed: " + reason(failure))
                      ? new CompletableFuture<HttpResponse>()
                      : CompletableFuture.<HttpResponse>failedFuture(unwrap(failure));
                }
                int status = response.status().intValue();
                if (stopped || status != 200) {
                  response.discardEntityBytes(mat);
                  if (stopped || failed("HTTP " + status)) {
                    return new CompletableFuture<HttpResponse>();
                  }
                  return CompletableFuture.<HttpResponse>failedFuture(
                      new RunnerException.RequestFailed("HTTP " + status));
                }
                connected = true;
                log.debug("Stream of task {} connected (attempt {})", taskId, attempt);
                return CompletableFuture.completedFuture(asEventStream(response));
              })
          .thenCompose(Function.identity());
    }

    /**
     * Records a failed attempt; true when that was the last one allowed (the source then fails).
     */
    private boolean failed(String why) {
      int consecutive = failures.incrementAndGet();
      log.warn(
          "Stream of task {}: attempt {} failed ({}), {} of {} consecutive failures",
          taskId,
          attempt,
          why,
          consecutive,
          settings.streamMaxFailures());
      if (consecutive < settings.streamMaxFailures()) {
        return false;
      }
      gaveUp.completeExceptionally(
          new RunnerException.StreamUnavailable(
              taskId, consecutive + " consecutive failed attempts, the last: " + why));
      return true;
    }

    private HttpResponse asEventStream(HttpResponse response) {
      ContentType type = response.entity().getContentType();
      if (type.mediaType().mainType().equals("text")
          && type.mediaType().subType().equals("event-stream")) {
        return response;
      }
      log.warn("Stream of task {} answered {}; read as text/event-stream", taskId, type);
      return response.withEntity((ResponseEntity) response.entity().withContentType(EVENT_STREAM));
    }

    /**
     * Counts and classifies an event as it leaves the EventSource, before any buffer: a terminal
     * frame seen here means the job's stream is complete, so the end of the connection that
     * follows is no reason to reconnect, however far behind the consumer still is. (The benchmark's
     * 1,000 jobs of 50 outputs reconnected twice each, and a consumer further behind than the
     * backoffs would give up the stream and fall back to polling.)
     */
    RunnerFrame onEvent(ServerSentEvent event) {
      eventsThisConnection++;
      String id = event.getId().filter(value -> !value.isEmpty()).orElse(null);
      boolean fresh = id != null ? seenIds.add(id) : eventsThisConnection > mostEventsPerConnection;
      if (id != null) {
        lastEventId = id;
      }
      if (fresh) {
        progressed = true;
        failures.set(0);
      }
      RunnerFrame frame =
          RunnerFrame.parse(event.getEventType().orElse(null), event.getData(), id);
      if (frame.terminal()) {
        ended = true;
      }
      return frame;
    }

    void stop(Throwable failure) {
      stopped = true;
      if (failure != null) {
        log.info("Stream of task {} stopped: {}", taskId, reason(failure));
      }
    }
  }

  private Duration backoff(int consecutiveFailures) {
    double min = settings.streamMinBackoff().toMillis();
    double max = settings.streamMaxBackoff().toMillis();
    double base = Math.min(max, min * Math.pow(2, Math.min(consecutiveFailures, 30)));
    double jitter =
        1 + ThreadLocalRandom.current().nextDouble() * settings.streamBackoffRandomFactor();
    return Duration.ofMillis((long) (base * jitter));
  }

  private CompletionStage<Optional<TaskStatus>> pollOnce(String taskId) {
    return status(taskId)
        .handle(
            (status, failure) -> {
              if (failure != null) {
                log.warn("Polling task {} failed: {}", taskId, reason(failure));
                return Optional.empty();
              }
              log.debug("Task {} is {}", taskId, status.state());
              return Optional.of(status);
            });
  }

  private Source<RunnerFrame, NotUsed> finalFrames(String taskId, TaskStatus status) {
    switch (status.state()) {
      case COMPLETED:
        return Source.completionStage(result(taskId))
            .mapConcat(
                content ->
                    List.of(
                        new RunnerFrame.Output(
                            null, RunnerFrame.Kind.FILE, content, POLL_RESULT_FILE, null),
                        new RunnerFrame.Completed(taskId)));
      case FAILED:
        String error = status.error();
        return Source.single(
            new RunnerFrame.Failed(
                error == null || error.isBlank() ? RunnerFrame.DEFAULT_ERROR : error));
      default:
        return Source.single(new RunnerFrame.Cancelled());
    }
  }

  private Upload parseUpload(Reply reply) {
    if (reply.status() != 200) {
      throw new RunnerException.UploadFailed("HTTP " + reply.status());
    }
    JsonNode json = reply.json();
    String taskId = json == null ? null : text(json, "task_id");
    if (taskId == null || taskId.isBlank()) {
      throw new RunnerException.UploadFailed("answer without task_id");
    }
    JsonNode position = json.get("queue_position");
    int queuePosition =
        position != null && position.canConvertToInt() && position.asInt() > 0
            ? position.asInt()
            : 1;
    return new Upload(taskId, queuePosition);
  }

  /** A response read in full. */
  private record Reply(int status, ByteString body) {
    JsonNode json() {
      try {
        return JSON.readTree(body.toArray());
      } catch (IOException e) {
        return null;
      }
    }

    JsonNode okJson(String what) {
      if (status != 200) {
        throw new RunnerException.RequestFailed(what + ": HTTP " + status);
      }
      JsonNode json = json();
      if (json == null || !json.isObject()) {
        throw new RunnerException.RequestFailed(what + ": not a JSON object");
      }
      return json;
    }
  }

  /**
   * Sends a request and reads the answer, failing with {@code failure(reason)} on error or timeout.
   */
  private CompletionStage<Reply> call(
      HttpRequest request, Duration timeout, Function<String, RunnerException> failure) {
    CompletableFuture<Reply> reply = new CompletableFuture<>();
    calls.submit(() -> {
      // The timeout starts when the request leaves the queue: waiting for a connection is the
      // engine's load, not the Runner's slowness.
      akka.actor.Cancellable timer =
          classic
              .scheduler()
              .scheduleOnce(
                  timeout,
                  () -> reply.completeExceptionally(failure.apply("no answer within " + timeout)),
                  classic.dispatcher());
      CompletionStage<Reply> answered;
      try {
        answered =
            onDispatcher(http.singleRequest(request, https, requestPool, classic.log()))
                .thenCompose(
                    response ->
                        onDispatcher(response.entity().toStrict(timeout.toMillis(), materializer))
                            .thenApply(strict ->
                                new Reply(response.status().intValue(), strict.getData())));
      } catch (RuntimeException e) {
        answered = CompletableFuture.failedFuture(e);
      }
      return answered.whenComplete(
          (answer, error) -> {
            timer.cancel();
            if (error == null) {
              reply.complete(answer);
            } else {
              reply.completeExceptionally(failure.apply("connection failed: " + reason(error)));
            }
          });
    });
    return reply;
  }

  /**
   * The outcome of a stage Akka returned, continued on the actor system's dispatcher. Akka's stages
   * (Scala futures converted) run even plain {@code thenApply} callbacks on {@code
   * ForkJoinPool.commonPool()}, which on a 2-core machine starts a new thread per callback.
   */
  private <T> CompletableFuture<T> onDispatcher(CompletionStage<T> akkaStage) {
    CompletableFuture<T> result = new CompletableFuture<>();
    akkaStage.whenCompleteAsync(
        (value, failure) -> {
          if (failure == null) {
            result.complete(value);
          } else {
            result.completeExceptionally(unwrap(failure));
          }
        },
        classic.dispatcher());
    return result;
  }

  /** The stage's outcome with a failure's cause unwrapped, so callers see the RunnerException. */
  private static <T> CompletionStage<T> settled(CompletionStage<T> stage) {
    CompletableFuture<T> settled = new CompletableFuture<>();
    stage.whenComplete(
        (value, failure) -> {
          if (failure == null) {
            settled.complete(value);
          } else {
            settled.completeExceptionally(unwrap(failure));
          }
        });
    return settled;
  }

  private HttpRequest withKey(HttpRequest request) {
    return apiKeyHeader.map(request::addHeader).orElse(request);
  }

  private String taskUrl(String taskId) {
    return settings.url() + "/api/tasks/" + pathSegment(taskId);
  }

  /**
   * Akka HTTP's SSE parser limits are global; a frame longer than max-line-size fails the
   * connection, and Alpakka would silently reconnect and replay it forever.
   */
  private static void checkSseLimits(Config root, RunnerSettings settings) {
    int line = root.getInt("akka.http.sse.max-line-size");
    int event = root.getInt("akka.http.sse.max-event-size");
    if (line < settings.maxFrameSize() || event <= line) {
      throw new IllegalArgumentException(
          "akka.http.sse.max-line-size ("
              + line
              + ") must be at least bot.runner.max-frame-size ("
              + settings.maxFrameSize()
              + ") and below akka.http.sse.max-event-size ("
              + event
              + ")");
    }
  }

  /** The streams' connection settings, without the idle limit that would cut a quiet stream. */
  static Config streamOverrides(Config root, RunnerSettings settings) {
    String clientChunk = "akka.http.client.parsing.max-chunk-size";
    long configured =
        root.getBytes(root.hasPath(clientChunk) ? clientChunk : "akka.http.parsing.max-chunk-size");
    long chunk = Math.max(settings.maxFrameSize(), configured);
    return ConfigFactory.parseMap(
            Map.of("idle-timeout", "infinite", "parsing.max-chunk-size", Long.toString(chunk)))
        .withFallback(settings.streamConnection());
  }

  private static ContentType contentTypeOf(String fileName) {
    String lower = fileName.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".pdf")) {
      return ContentTypes.create(MediaTypes.APPLICATION_PDF);
    }
    if (lower.endsWith(".txt") || lower.endsWith(".md")) {
      return ContentTypes.TEXT_PLAIN_UTF8;
    }
    return ContentTypes.APPLICATION_OCTET_STREAM;
  }

  private static TaskStatus.State state(String status) {
    if (status == null) {
      return TaskStatus.State.UNKNOWN;
    }
    switch (status.strip().toLowerCase(Locale.ROOT)) {
      case "queued":
      case "pending":
        return TaskStatus.State.QUEUED;
      case "running":
      case "processing":
        return TaskStatus.State.RUNNING;
      case "completed":
      case "done":
        return TaskStatus.State.COMPLETED;
      case "failed":
      case "error":
        return TaskStatus.State.FAILED;
      case "cancelled":
      case "canceled":
        return TaskStatus.State.CANCELLED;
      default:
        return TaskStatus.State.UNKNOWN;
    }
  }

  private static String text(JsonNode json, String field) {
    JsonNode node = json.get(field);
    return node == null || node.isNull() || !node.isValueNode() ? null : node.asText();
  }

  private static String pathSegment(String value) {
    StringBuilder out = new StringBuilder();
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || "-._~".indexOf(c) >= 0) {
        out.append(c);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  private static String reason(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof RunnerException runner) {
      return runner.reason();
    }
    return cause.getClass().getSimpleName()
        + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
  }
}
