package io.botengine.user;

import akka.actor.typed.ActorSystem;
import akka.cluster.typed.Cluster;
import akka.pattern.StatusReply;
import io.botengine.JsonSerializable;
import java.time.Instant;

/**
 * What the admin API shows of a running job ({@code GET /admin/jobs}) and why a user actor refuses
 * an admin cancel. The user actor answers with the node it runs on.
 */
public final class AdminJobs {
  private AdminJobs() {}

  /**
   * A running job: {@code outputsDelivered} is the index of the last output Telegram accepted (the
   * outputs delivered, in order); {@code taskId} is null until the Runner accepted the upload.
   */
  public record RunningJob(
      String userId,
      String jobId,
      String taskId,
      Instant startedAt,
      long outputsDelivered,
      String node)
      implements JsonSerializable {}

  /** The user's running job, or a "not found" refusal when none runs. */
  static StatusReply<RunningJob> running(String userId, UserState state, ActorSystem<?> system) {
    UserState.Job job = state.job();
    if (job == null) {
      return StatusReply.error(AdminRefusal.notFound("user " + userId + " has no running job"));
    }
    return StatusReply.success(new RunningJob(userId, job.jobId(), job.taskId(), job.startedAt(),
        job.lastDelivered(), Cluster.get(system).selfMember().address().toString()));
  }

  /** Why an admin cancel finds nothing to cancel: an unknown user (404) or no job (409). */
  static String nothingToCancel(String userId, UserState state) {
    return state.registered()
        ? AdminRefusal.conflict("user " + userId + " has no running job")
        : AdminRefusal.notFound("user " + userId + " is unknown");
  }
}
