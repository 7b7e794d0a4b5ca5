package io.botengine.job;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.settings.ClientConnectionSettings;
import akka.stream.KillSwitch;
import akka.stream.javadsl.Source;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one client of the Runner (docs/runner-protocol.md): upload a CV, follow a job's event
 * stream, poll, cancel, check health. Every call returns at once ({@link CompletionStage} or {@link
 * Source}); nothing blocks. The work is done by three parts: {@link RunnerCalls} (the short calls,
 * on a modest pool), {@link RunnerEventStream} (one connection of its own per event stream) and
 * {@link RunnerPoller} (polling when a stream cannot be had). Thread-safe; lives as long as the
 * actor system.
 */
public final class RunnerClient {
  private static final Logger log = LoggerFactory.getLogger(RunnerClient.class);

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

  private final RunnerSettings settings;
  private final RunnerCalls calls;
  private final RunnerEventStream events;
  private final RunnerPoller poller;
  private final io.botengine.Metrics metrics;

  /** A client of the Runner at {@code settings.url()}. */
  public RunnerClient(ActorSystem<?> system, RunnerSettings settings) {
    if (settings.url().isEmpty()) {
      throw new IllegalArgumentException("bot.runner.url is not set");
    }
    this.settings = settings;
    this.calls = new RunnerCalls(system, settings);
    this.events = new RunnerEventStream(system, settings, calls);
    this.poller = new RunnerPoller(settings, calls);
    this.metrics = io.botengine.Metrics.get(system);
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
    return events.connectionSettings();
  }

  /** Frames received but not understood (non-JSON, unknown type, invalid output) since start. */
  public long skippedFrames() {
    return events.skippedFrames();
  }

  /**
   * Starts a job: multipart POST of the file and the user id. Fails with {@link
   * RunnerException.UploadFailed} on refusal, non-200, a body without task id, or no answer within
   * {@code upload-timeout}. Never retried: the Runner may have accepted a POST that got no answer.
   */
  public CompletionStage<Upload> upload(long telegramId, String fileName, byte[] content) {
    return calls.upload(telegramId, fileName, content, null);
  }

  /**
   * As {@link #upload(long, String, byte[])}, sending {@code Idempotency-Key} (when not null): a
   * Runner that honours it answers an upload repeated after a crash with the task it made before.
   */
  public CompletionStage<Upload> upload(
      long telegramId, String fileName, byte[] content, String idempotencyKey) {
    return calls.upload(telegramId, fileName, content, idempotencyKey);
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
   * the caller keeps outputs by index. Each call is a separate connection, and its source is
   * materialized once (a second materialization fails).
   */
  public Source<RunnerFrame, KillSwitch> stream(String taskId, Optional<String> lastEventId) {
    return events.stream(taskId, lastEventId);
  }

  /**
   * Polls the job's status every {@code poll-interval}: on completed emits the result as the
   * document {@value RunnerPoller#POLL_RESULT_FILE} and {@link RunnerFrame.Completed}; on failed
   * {@link RunnerFrame.Failed}; on cancelled {@link RunnerFrame.Cancelled}; then completes. A poll
   * that fails is tried again at the next tick. Fails with {@link RunnerException.PollTimeout}
   * after {@code poll-max-duration}.
   */
  public Source<RunnerFrame, NotUsed> poll(String taskId) {
    metrics.pollingFallback();
    return poller.poll(taskId);
  }

  /** {@code GET /api/tasks/{id}}; fails with {@link RunnerException.RequestFailed}. */
  public CompletionStage<TaskStatus> status(String taskId) {
    return calls.status(taskId);
  }

  /** {@code GET /api/tasks/{id}/result}, its {@code content}; fails with RequestFailed. */
  public CompletionStage<String> result(String taskId) {
    return calls.result(taskId);
  }

  /** {@code POST /api/tasks/{id}/cancel}, best effort: completes normally whatever the answer. */
  public CompletionStage<Done> cancel(String taskId) {
    return calls.cancel(taskId);
  }

  /** {@code GET /health}: true on 200, false on anything else, errors and timeouts included. */
  public CompletionStage<Boolean> healthy() {
    return calls.healthy();
  }
}
