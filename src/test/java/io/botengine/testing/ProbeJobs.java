package io.botengine.testing;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import io.botengine.job.JobLauncher;
import io.botengine.job.TaskActor;

/** A {@link JobLauncher} that only reports what the user actor asked for. */
public final class ProbeJobs implements JobLauncher {
  /** A job start or cancel the user actor asked for. */
  public record Call(String what, JobSpec spec, String jobId, String taskId) {}

  private final ActorRef<Call> calls;

  public ProbeJobs(ActorRef<Call> calls) {
    this.calls = calls;
  }

  @Override
  public void start(
      ActorContext<?> context, JobSpec spec, ActorRef<TaskActor.Report> reportTo) {
    calls.tell(new Call("start", spec, spec.jobId(), spec.taskId()));
  }

  @Override
  public boolean drain(
      ActorContext<?> context, String jobId, ActorRef<akka.Done> whenDrained) {
    return false;
  }

  @Override
  public void cancel(ActorContext<?> context, String jobId, String taskId) {
    calls.tell(new Call("cancel", null, jobId, taskId));
  }

  @Override
  public void cancelOrphan(ActorContext<?> context, JobSpec spec) {
    calls.tell(new Call("cancelOrphan", spec, spec.jobId(), null));
  }
}
