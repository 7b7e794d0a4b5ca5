package io.botengine.job;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import io.botengine.telegram.ChatOutbox;
import io.botengine.user.UserEntity;

/**
 * Starts and stops the task actor of a job as a child of the user actor. Passed into the user
 * entity so that tests can replace the Runner side with a probe.
 */
public interface JobLauncher {

  /**
   * What a task needs: {@code taskId} is null for a new job (upload {@code content} first) and set
   * when resuming an accepted one after {@code lastDelivered}. Outputs go to {@code outbox}, tagged
   * with the job id.
   */
  record JobSpec(
      long userId,
      long chatId,
      String jobId,
      String taskId,
      String fileName,
      byte[] content,
      long lastDelivered,
      ActorRef<ChatOutbox.Command> outbox) {}

  /** Spawns the task actor for the job. */
  void start(ActorContext<UserEntity.Command> context, JobSpec spec);

  /**
   * Asks the job's task actor to finish the output in flight and stop, leaving the job running on
   * the Runner (it resumes wherever the user actor starts next); {@code whenDrained} hears Done.
   * Returns false when there is no task actor to drain.
   */
  boolean drain(ActorContext<UserEntity.Command> context, String jobId, ActorRef<Done> whenDrained);

  /** Cancels the job's Runner task (best effort) and stops its task actor at once. */
  void cancel(ActorContext<UserEntity.Command> context, String jobId, String taskId);
}
