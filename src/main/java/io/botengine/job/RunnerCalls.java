package io.botengine.job;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.HttpsConnectionContext;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.Multiparts;
import akka.http.javadsl.model.RequestEntity;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.settings.ConnectionPoolSettings;
import akka.stream.Materializer;
import akka.stream.SystemMaterializer;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.BoundedCalls;
import io.botengine.Failures;
import io.botengine.Json;
import io.botengine.job.RunnerClient.TaskStatus;
import io.botengine.job.RunnerClient.Upload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Runner's short calls (docs/runner-protocol.md): upload a CV, a task's status and result,
 * cancel, health. They share a modest connection pool ({@code bot.runner.request-pool}); a request
 * waits for one of its connections in arrival order, and its timeout starts when it leaves that
 * queue. Every call returns at once; nothing blocks. Thread-safe; part of {@link RunnerClient}.
 */
final class RunnerCalls {
  private static final Logger log = LoggerFactory.getLogger(RunnerCalls.class);

  private final akka.actor.ActorSystem classic;
  private final io.botengine.Metrics metrics;
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
  private final Optional<HttpHeader> apiKeyHeader;

  RunnerCalls(ActorSystem<?> system, RunnerSettings settings) {
    this.classic = system.classicSystem();
    this.metrics = io.botengine.Metrics.get(system);
    this.settings = settings;
    this.http = Http.get(classic);
    this.https = http.defaultClientHttpsContext();
    this.materializer = SystemMaterializer.get(system).materializer();
    this.requestPool =
        ConnectionPoolSettings.create(
            settings
                .requestPool()
                .atPath("akka.http.host-connection-pool")
                .withFallback(system.settings().config()));
    this.calls = new BoundedCalls(requestPool.getMaxConnections());
    this.apiKeyHeader =
        settings.apiKey().isEmpty()
            ? Optional.empty()
            : Optional.of(RawHeader.create("X-API-Key", settings.apiKey()));
  }

  /**
   * Starts a job: multipart POST of the file and the user id. Fails with {@link
   * RunnerException.UploadFailed} on refusal, non-200, a body without task id, or no answer within
   * {@code upload-timeout}. Never retried: the Runner may have accepted a POST that got no answer.
   */
  CompletionStage<Upload> upload(
      long telegramId, String fileName, byte[] content, String idempotencyKey) {
    String name =
        fileName == null || fileName.isBlank() ? "cv" : RunnerFrame.safeFileName(fileName);
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
    if (idempotencyKey != null) {
      request = request.addHeader(HttpHeader.parse("Idempotency-Key", idempotencyKey));
    }
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

  /** {@code GET /api/tasks/{id}}; fails with {@link RunnerException.RequestFailed}. */
  CompletionStage<TaskStatus> status(String taskId) {
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
  CompletionStage<String> result(String taskId) {
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
  CompletionStage<Done> cancel(String taskId) {
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
  CompletionStage<Boolean> healthy() {
    HttpRequest request = withKey(HttpRequest.GET(settings.url() + "/health"));
    return call(request, settings.requestTimeout(), RunnerException.RequestFailed::new)
        .handle((reply, failure) -> failure == null && reply.status() == 200);
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
        return Json.MAPPER.readTree(body.toArray());
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
    return reply.whenComplete((answer, error) -> {
      if (error != null) {
        metrics.runnerError(RunnerFailure.of(Failures.cause(error)).label());
      } else if (answer.status() != 200) {
        metrics.runnerError(RunnerFailure.ofStatus(answer.status()).label());
      }
    });
  }

  /**
   * The outcome of a stage Akka returned, continued on the actor system's dispatcher. Akka's stages
   * (Scala futures converted) run even plain {@code thenApply} callbacks on {@code
   * ForkJoinPool.commonPool()}, which on a 2-core machine starts a new thread per callback.
   */
  <T> CompletableFuture<T> onDispatcher(CompletionStage<T> akkaStage) {
    CompletableFuture<T> result = new CompletableFuture<>();
    akkaStage.whenCompleteAsync(
        (value, failure) -> {
          if (failure == null) {
            result.complete(value);
          } else {
            result.completeExceptionally(Failures.cause(failure));
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
            settled.completeExceptionally(Failures.cause(failure));
          }
        });
    return settled;
  }

  HttpRequest withKey(HttpRequest request) {
    return apiKeyHeader.map(request::addHeader).orElse(request);
  }

  String taskUrl(String taskId) {
    return settings.url() + "/api/tasks/" + pathSegment(taskId);
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

  /** A failure in a few words for a log line: the RunnerException's reason, or the exception. */
  static String reason(Throwable failure) {
    Throwable cause = Failures.cause(failure);
    if (cause instanceof RunnerException runner) {
      return runner.reason();
    }
    return cause.getClass().getSimpleName()
        + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
  }
}
