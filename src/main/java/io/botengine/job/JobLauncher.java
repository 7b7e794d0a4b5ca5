package io.botengine.job;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.ActorContext;
import io.botengine.telegram.ChatOutbox;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Starts and stops the task actor of a job as a child of the actor whose context is given (the
 * user actor). Passed into the user entity so that tests can replace the Runner side with a probe.
 */
public interface JobLauncher {

  /** Makes this node's launcher; {@code waker} is how its job registry reaches the users. */
  @FunctionalInterface
  interface Factory {
    JobLauncher create(ActorSystem<?> system, JobRegistry.Waker waker);
  }

  /**
   * What a task needs: {@code taskId} is null for a new job (upload {@code content} first) and set
   * when resuming an accepted one after {@code lastDelivered}. Outputs go to {@code outbox}, tagged
   * with the job id. {@code previewMessageId}, when not 0, is an edit-mode preview message of
   * output {@code previewIndex} that an earlier task left: the task finishes or deletes it.
   */
  record JobSpec(
      long userId,
      long chatId,
      String jobId,
      String taskId,
      String fileName,
      byte[] content,
      long lastDelivered,
      ActorRef<ChatOutbox.Command> outbox,
      long previewIndex,
      long previewMessageId,
      String lastEventId) {
    public JobSpec(long userId, long chatId, String jobId, String taskId, String fileName,
        byte[] content, long lastDelivered, ActorRef<ChatOutbox.Command> outbox) {
      this(userId, chatId, jobId, taskId, fileName, content, lastDelivered, outbox, 0, 0, null);
    }

    public JobSpec(long userId, long chatId, String jobId, String taskId, String fileName,
        byte[] content, long lastDelivered, ActorRef<ChatOutbox.Command> outbox,
        long previewIndex, long previewMessageId) {
      this(userId, chatId, jobId, taskId, fileName, content, lastDelivered, outbox, previewIndex,
          previewMessageId, null);
    }

    /** The same job without the file: what a task keeps once the upload has it. */
    public JobSpec withoutContent() {
      return new JobSpec(userId, chatId, jobId, taskId, fileName, null, lastDelivered, outbox,
          previewIndex, previewMessageId, lastEventId);
    }
  }

  /** Spawns the task actor for the job as a child of {@code parent}; it reports to {@code reportTo}. */
  void start(ActorContext<?> parent, JobSpec spec, ActorRef<TaskActor.Report> reportTo);

  /**
   * Asks the job's task actor to finish the output in flight and stop, leaving the job running on
   * the Runner (it resumes wherever the user actor starts next); {@code whenDrained} hears Done.
   * Returns false when there is no task actor to drain.
   */
  boolean drain(ActorContext<?> parent, String jobId, ActorRef<Done> whenDrained);

  /** Cancels the job's Runner task (best effort) and stops its task actor at once. */
  void cancel(ActorContext<?> parent, String jobId, String taskId);

  /**
   * Cancels the Runner task an upload of this job may have made without the engine learning its
   * id (the node died with the upload in flight, and the job was cancelled before its file was
   * uploaded again): uploads {@code spec}'s file once more with the job's {@code Idempotency-Key},
   * so that a Runner which honours the key answers with that task, and cancels the task it
   * answers with. Best effort; nothing reaches the user.
   */
  void cancelOrphan(ActorContext<?> parent, JobSpec spec);

  /** The running jobs of the whole cluster (job id by user id), from the job registry. */
  default CompletionStage<Map<Long, String>> running(Duration timeout) {
    return CompletableFuture.completedFuture(Map.of());
  }
}
