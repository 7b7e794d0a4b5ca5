package io.botengine.job;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.OutgoingConnection;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.ResponseEntity;
import akka.http.javadsl.model.Uri;
import akka.http.javadsl.model.headers.LastEventId;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.http.javadsl.settings.ClientConnectionSettings;
import akka.japi.Pair;
import akka.pattern.Patterns;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.KillSwitch;
import akka.stream.Materializer;
import akka.stream.Outlet;
import akka.stream.SubscriptionWithCancelException;
import akka.stream.alpakka.sse.javadsl.EventSource;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.stage.AbstractGraphStageWithMaterializedValue;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.botengine.Failures;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's event stream (SSE) from the Runner, reconnected with backoff and {@code Last-Event-ID}.
 * Every stream opens its own connection with Akka HTTP's connection-level API: no pool, hence no
 * pool limits, queue or shared backoff, and connections that never idle out, so thousands of quiet
 * streams can be open at once and {@code bot.runner.stream-idle-timeout} is their only idle limit.
 * Thread-safe; part of {@link RunnerClient}.
 */
final class RunnerEventStream {
  private static final Logger log = LoggerFactory.getLogger(RunnerEventStream.class);
  private static final ContentType EVENT_STREAM = ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM);
  private static final String IDLE = "idle";

  private final akka.actor.ActorSystem classic;
  private final Materializer mat;
  private final io.botengine.Metrics metrics;
  private final RunnerSettings settings;
  private final RunnerCalls calls;
  private final ClientConnectionSettings streamConnection;
  private final Flow<HttpRequest, HttpResponse, CompletionStage<OutgoingConnection>> streamFlow;
  private final AtomicLong skippedFrames = new AtomicLong();

  RunnerEventStream(ActorSystem<?> system, RunnerSettings settings, RunnerCalls calls) {
    this.classic = system.classicSystem();
    this.mat = Materializer.matFromSystem(system);
    this.metrics = io.botengine.Metrics.get(system);
    this.settings = settings;
    this.calls = calls;
    Config root = system.settings().config();
    checkSseLimits(root, settings);
    this.streamConnection =
        ClientConnectionSettings.create(
            streamOverrides(root, settings).atPath("akka.http.client").withFallback(root));
    Uri base = Uri.create(settings.url());
    var connectionTo =
        Http.get(classic)
            .connectionTo(base.host().address())
            .toPort(base.port())
            .withClientConnectionSettings(streamConnection);
    this.streamFlow = "https".equals(base.scheme()) ? connectionTo.https() : connectionTo.http();
  }

  /** Connection settings of the event streams (no idle timeout of their own). */
  ClientConnectionSettings connectionSettings() {
    return streamConnection;
  }

  /** Frames received but not understood since start. */
  long skippedFrames() {
    return skippedFrames.get();
  }

  /**
   * See {@link RunnerClient#stream}. The source is built for one materialization, which keeps its
   * connection attempts: building it anew for each (as {@code Source.fromMaterializer} would) costs
   * every held stream a fused island of its own.
   */
  Source<RunnerFrame, KillSwitch> stream(String taskId, Optional<String> lastEventId) {
    Uri uri = Uri.create(calls.taskUrl(taskId) + "/stream");
    Optional<String> resumeAfter = lastEventId.filter(id -> !id.isEmpty());
    Attempts attempts = new Attempts(taskId, resumeAfter.orElse(null));
    return EventSource.create(uri, attempts::send, resumeAfter, mat)
        .viaMat(new Frames(attempts), Keep.right());
  }

  /**
   * Turns one stream's events into frames on a single stage, where a chain of stock operators
   * cost a running stage each for as long as the stream is held: frames not understood are counted
   * and dropped, the stream completes after a terminal frame (which it emits), fails with {@link
   * RunnerException.StreamIdle} when no event arrived for {@code stream-idle-timeout} and with
   * {@link RunnerException.StreamUnavailable} as soon as the attempts give up, tells the attempts
   * when it stopped, and is stopped by the kill switch it materializes.
   */
  private final class Frames
      extends AbstractGraphStageWithMaterializedValue<
          FlowShape<ServerSentEvent, RunnerFrame>, KillSwitch> {
    private final Attempts attempts;
    private final Inlet<ServerSentEvent> in = Inlet.create("Frames.in");
    private final Outlet<RunnerFrame> out = Outlet.create("Frames.out");
    private final FlowShape<ServerSentEvent, RunnerFrame> shape = FlowShape.of(in, out);

    Frames(Attempts attempts) {
      this.attempts = attempts;
    }

    @Override
    public FlowShape<ServerSentEvent, RunnerFrame> shape() {
      return shape;
    }

    @Override
    public Pair<GraphStageLogic, KillSwitch> createLogicAndMaterializedValuePair(
        Attributes inherited) {
      if (!attempts.materialized.compareAndSet(false, true)) {
        throw new IllegalStateException(
            "the event stream of task " + attempts.taskId + " was materialized twice");
      }
      Logic logic = new Logic();
      return Pair.create(logic, logic);
    }

    private final class Logic extends TimerGraphStageLogic implements KillSwitch {
      private final AsyncCallback<Throwable> stop = createAsyncCallback(this::stop);
      private final long idleNanos = settings.streamIdleTimeout().toNanos();
      private long lastEvent = System.nanoTime();
      /** The frames of the last event that are still to be emitted. */
      private Iterator<RunnerFrame> pending = Collections.emptyIterator();
      private boolean upstreamDone;
      private Throwable failure;

      Logic() {
        super(shape);
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                lastEvent = System.nanoTime();
                pending = attempts.onEvent(grab(in)).iterator();
                emitNext();
              }

              @Override
              public void onUpstreamFinish() {
                upstreamDone = true;
                if (!pending.hasNext()) {
                  completeStage();
                }
              }

              @Override
              public void onUpstreamFailure(Throwable cause) {
                stop(cause instanceof TimeoutException ? idle(attempts.taskId) : cause);
              }
            });
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                emitNext();
              }

              @Override
              public void onDownstreamFinish(Throwable cause) throws Exception {
                if (!(cause instanceof SubscriptionWithCancelException.NonFailureCancellation)) {
                  failure = cause;
                }
                super.onDownstreamFinish(cause);
              }
            });
      }

      @Override
      public void preStart() {
        scheduleOnce(IDLE, settings.streamIdleTimeout());
        attempts.gaveUp.whenComplete((none, gaveUp) -> stop.invoke(gaveUp));
      }

      /** Called with demand downstream: emits the next frame kept, or asks for the next event. */
      private void emitNext() {
        while (pending.hasNext()) {
          RunnerFrame frame = pending.next();
          if (keep(attempts.taskId, frame)) {
            push(out, frame);
            if (frame.terminal()) {
              completeStage();
            }
            return;
          }
        }
        if (upstreamDone) {
          completeStage();
        } else {
          pull(in);
        }
      }

      @Override
      public void onTimer(Object key) {
        long quiet = System.nanoTime() - lastEvent;
        if (quiet >= idleNanos) {
          stop(idle(attempts.taskId));
        } else {
          scheduleOnce(IDLE, Duration.ofNanos(idleNanos - quiet));
        }
      }

      /** Completes the stream (no cause) or fails it. */
      private void stop(Throwable cause) {
        if (cause == null) {
          completeStage();
        } else {
          failure = cause;
          failStage(cause);
        }
      }

      @Override
      public void postStop() {
        attempts.stop(failure);
      }

      @Override
      public void shutdown() {
        stop.invoke(null);
      }

      @Override
      public void abort(Throwable cause) {
        stop.invoke(cause);
      }
    }
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

  private RunnerException.StreamIdle idle(String taskId) {
    metrics.runnerError(RunnerFailure.TIMEOUT.label());
    return new RunnerException.StreamIdle(taskId, "no event for " + settings.streamIdleTimeout());
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
    final CompletableFuture<Void> gaveUp = new CompletableFuture<>();
    final AtomicInteger failures = new AtomicInteger();
    final AtomicBoolean materialized = new AtomicBoolean();
    final Set<String> seenIds = new HashSet<>();
    volatile String lastEventId;
    volatile boolean stopped;
    volatile boolean connected;
    volatile boolean progressed;
    volatile boolean ended;
    int attempt;
    int eventsThisConnection;
    int mostEventsPerConnection;

    Attempts(String taskId, String lastEventId) {
      this.taskId = taskId;
      this.lastEventId = lastEventId;
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
        HttpRequest effective = calls.withKey(request);
        String resumeFrom = lastEventId;
        if (resumeFrom != null) {
          effective =
              effective.removeHeader("Last-Event-ID").addHeader(LastEventId.create(resumeFrom));
        }
        if (attempt == 1) {
          return connect(effective);
        }
        metrics.streamReconnect();
        Duration delay = settings.streamBackoff().delay(failures.get());
        log.info(
            "Reconnecting the stream of task {} in {} ms (attempt {}, Last-Event-ID {})",
            taskId,
            delay.toMillis(),
            attempt,
            resumeFrom);
        HttpRequest delayed = effective;
        return calls.onDispatcher(
            Patterns.after(
                delay,
                classic,
                () -> stopped || ended ? new CompletableFuture<HttpResponse>() : connect(delayed)));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    private CompletionStage<HttpResponse> connect(HttpRequest request) {
      return calls.onDispatcher(
              Source.single(request.withUri(request.getUri().toRelative()))
                  .via(streamFlow)
                  .runWith(Sink.head(), mat))
          .handle(
              (response, failure) -> {
                if (failure != null) {
                  return failed("connection failed: " + RunnerCalls.reason(failure))
                      ? new CompletableFuture<HttpResponse>()
                      : CompletableFuture.<HttpResponse>failedFuture(Failures.cause(failure));
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
      metrics.runnerError(RunnerFailure.ofReason(why).label());
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
     * backoffs would give up the stream and fall back to polling.) The first event of a
     * reconnection comes after a {@link RunnerFrame.Reconnected}: deltas start again.
     */
    List<RunnerFrame> onEvent(ServerSentEvent event) {
      eventsThisConnection++;
      boolean reconnected = eventsThisConnection == 1 && attempt > 1;
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
      return reconnected ? List.of(new RunnerFrame.Reconnected(), frame) : List.of(frame);
    }

    void stop(Throwable failure) {
      stopped = true;
      if (failure != null) {
        log.info("Stream of task {} stopped: {}", taskId, RunnerCalls.reason(failure));
      }
    }
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

  /**
   * The streams' connection settings, without the idle limit that would cut a quiet stream, and
   * without a header value cache: a stream's connection parses one response only, and caching a
   * value the shared header trie lacks (the Runner's Cache-Control, Server) made every connection
   * copy the trie, about 4 KB per held stream.
   */
  static Config streamOverrides(Config root, RunnerSettings settings) {
    String clientChunk = "akka.http.client.parsing.max-chunk-size";
    long configured =
        root.getBytes(root.hasPath(clientChunk) ? clientChunk : "akka.http.parsing.max-chunk-size");
    long chunk = Math.max(settings.maxFrameSize(), configured);
    return ConfigFactory.parseMap(
            Map.of(
                "idle-timeout", "infinite",
                "parsing.max-chunk-size", Long.toString(chunk),
                "parsing.header-cache.default", "0"))
        .withFallback(settings.streamConnection());
  }
}
