package io.botengine.job;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.ActorContext;
import com.typesafe.config.Config;
import io.botengine.user.UserEntity;

/**
 * The real {@link JobLauncher}: task actors talking to the Runner through this node's {@link
 * RunnerClient}, registered with the {@link JobRegistry} singleton.
 */
public final class RunnerJobs implements JobLauncher {
  private final RunnerClient runner;
  private final TaskActor.Deps deps;

  public RunnerJobs(ActorSystem<?> system) {
    Config jobs = system.settings().config().getConfig("bot.jobs");
    this.runner = RunnerClient.create(system);
    ActorRef<JobRegistry.Command> registry =
        JobRegistry.init(system, jobs.getDuration("wake-interval"));
    this.deps =
        new TaskActor.Deps(
            runner,
            registry,
            jobs.getInt("reorder-buffer"),
            jobs.getDuration("gap-timeout"),
            system.settings().config().getDuration("bot.telegram.delivery.typing-interval"),
            system.settings().config().getDuration("bot.telegram.delivery.progress-interval"),
            system.settings().config().getDuration("bot.ask-timeout"));
  }

  @Override
  public void start(ActorContext<UserEntity.Command> context, JobSpec spec) {
    context.spawn(TaskActor.create(spec, context.getSelf(), deps), childName(spec.jobId()));
  }

  @Override
  public boolean drain(
      ActorContext<UserEntity.Command> context, String jobId, ActorRef<Done> whenDrained) {
    var child = context.getChild(childName(jobId));
    child.ifPresent(c -> c.<TaskActor.Command>unsafeUpcast().tell(new TaskActor.Drain(whenDrained)));
    return child.isPresent();
  }

  @Override
  public void cancel(ActorContext<UserEntity.Command> context, String jobId, String taskId) {
    var child = context.getChild(childName(jobId));
    if (child.isPresent()) {
      child.get().<TaskActor.Command>unsafeUpcast().tell(TaskActor.Cancel.INSTANCE);
    } else if (taskId != null) {
      runner.cancel(taskId);
    }
  }

  /** The Runner client of this node (for health checks). */
  public RunnerClient runner() {
    return runner;
  }

  private static String childName(String jobId) {
    return "job-" + jobId;
  }
}
