package io.botengine.job;

import akka.NotUsed;
import akka.stream.javadsl.Source;
import io.botengine.job.RunnerClient.TaskStatus;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a job by polling its status when its event stream cannot be had. Thread-safe; part of
 * {@link RunnerClient}.
 */
final class RunnerPoller {
  private static final Logger log = LoggerFactory.getLogger(RunnerPoller.class);
  /** The name of the document a polled result is sent as. */
  static final String POLL_RESULT_FILE = "cv_result.md";

  private final RunnerSettings settings;
  private final RunnerCalls calls;

  RunnerPoller(RunnerSettings settings, RunnerCalls calls) {
    this.settings = settings;
    this.calls = calls;
  }

  /**
   * See {@link RunnerClient#poll}. A status the Runner refuses for good (the task is unknown, the
   * key refused) fails the source at once; other failed polls are tried again.
   */
  Source<RunnerFrame, NotUsed> poll(String taskId) {
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

  private CompletionStage<Optional<TaskStatus>> pollOnce(String taskId) {
    return calls.status(taskId)
        .handle(
            (status, failure) -> {
              if (failure != null) {
                String reason = RunnerCalls.reason(failure);
                log.warn("Polling task {} failed: {}", taskId, reason);
                RunnerFailure cause = RunnerFailure.ofReason(reason);
                if (cause == RunnerFailure.TASK_NOT_FOUND || cause == RunnerFailure.AUTH_REFUSED) {
                  throw new RunnerException.RequestFailed(reason);
                }
                return Optional.empty();
              }
              log.debug("Task {} is {}", taskId, status.state());
              return Optional.of(status);
            });
  }

  private Source<RunnerFrame, NotUsed> finalFrames(String taskId, TaskStatus status) {
    switch (status.state()) {
      case COMPLETED:
        return Source.completionStage(calls.result(taskId))
            .mapConcat(
                content ->
                    List.of(
                        new RunnerFrame.Output(
                            null, RunnerFrame.Kind.FILE, content, POLL_RESULT_FILE, null),
                        new RunnerFrame.Completed(taskId)));
      case FAILED:
        String error = status.error();
        return Source.single(
            error == null || error.isBlank()
                ? RunnerFrame.Failed.unexplained(null)
                : new RunnerFrame.Failed(error));
      default:
        return Source.single(new RunnerFrame.Cancelled());
    }
  }
}
