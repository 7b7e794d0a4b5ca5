package io.botengine.job;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.pattern.Patterns;
import io.botengine.LogFields;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The real {@link JobLauncher}: task actors talking to the Runner through this node's {@link
 * RunnerClient}, registered with the {@link JobRegistry} singleton.
 */
public final class RunnerJobs implements JobLauncher {
  private static final Duration REGISTER_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration REGISTER_PAUSE = Duration.ofSeconds(5);
  private static final int REGISTER_ATTEMPTS = 12;

  private final ActorSystem<?> system;
  private final RunnerClient runner;
  private final ActorRef<JobRegistry.Command> registry;
  private final TaskActor.Deps deps;
  /** Counts this node's task actors into {@code botengine_jobs_running}. */
  private final ActorRef<RunningTasks.Started> running;

  public RunnerJobs(ActorSystem<?> system, JobRegistry.Waker waker) {
    JobSettings settings = JobSettings.fromConfig(system.settings().config());
    this.system = system;
    this.runner = RunnerClient.create(system);
    this.running = system.systemActorOf(
        RunningTasks.create(io.botengine.Metrics.get(system)), "running-tasks",
        akka.actor.typed.Props.empty());
    this.registry =
        JobRegistry.init(system, waker, settings.wakeInterval(), settings.removalMargin());
    this.deps =
        new TaskActor.Deps(
            TaskActor.Runner.of(runner),
            registry,
            settings.reorderBuffer(),
            settings.gapTimeout(),
            settings.typingInterval(),
            settings.progressInterval(),
            settings.askTimeout(),
            settings.preview());
  }

  @Override
  public void start(ActorContext<?> context, JobSpec spec, ActorRef<TaskActor.Report> reportTo) {
    running.tell(new RunningTasks.Started(
        context.spawn(LogFields.around(fields(spec), m -> Map.of(),
            TaskActor.create(spec, reportTo, deps)), childName(spec.jobId()))));
    register(spec.userId(), spec.jobId());
  }

  /**
   * Tells the registry about the job until it confirms: a registration lost with the registry's
   * node would leave the job without wakes (passivated when idle, not resumed after a crash).
   */
  private void register(long userId, String jobId) {
    Patterns.retry(
            () ->
                AskPattern.<JobRegistry.Command, Done>ask(
                    registry,
                    replyTo -> new JobRegistry.Register(userId, jobId, replyTo),
                    REGISTER_TIMEOUT,
                    system.scheduler()),
            REGISTER_ATTEMPTS,
            REGISTER_PAUSE,
            system.classicSystem().scheduler(),
            system.executionContext())
        .whenComplete(
            (done, error) -> {
              if (error != null) {
                system.log().warn("user {} job {}: the job registry did not confirm it ({}), so it"
                    + " is woken only if its task actor's own registration arrived",
                    userId, jobId, error.toString());
              }
            });
  }

  /** Drains the task and has the registry wake the user at once, wherever it starts next. */
  @Override
  public boolean drain(
      ActorContext<?> context, String jobId, ActorRef<Done> whenDrained) {
    var child = context.getChild(childName(jobId));
    child.ifPresent(c -> {
      c.<TaskActor.Command>unsafeUpcast().tell(new TaskActor.Drain(whenDrained));
      registry.tell(new JobRegistry.HandedOver(jobId));
    });
    return child.isPresent();
  }

  @Override
  public void cancel(ActorContext<?> context, String jobId, String taskId) {
    var child = context.getChild(childName(jobId));
    if (child.isPresent()) {
      child.get().<TaskActor.Command>unsafeUpcast().tell(TaskActor.Cancel.INSTANCE);
    } else if (taskId != null) {
      runner.cancel(taskId);
    }
  }

  @Override
  public void cancelOrphan(ActorContext<?> context, JobSpec spec) {
    runner.upload(spec.userId(), spec.fileName(), spec.content(), spec.jobId())
        .whenComplete((upload, error) -> {
          if (error != null) {
            system.log().warn("user {} job {}: the Runner task an upload cut short by a crash may"
                + " have made could not be found to cancel it ({})", spec.userId(), spec.jobId(),
                error.toString());
            return;
          }
          system.log().info("user {} job {}: cancelling Runner task {}: the one the upload a"
              + " crash cut short made (or, if that upload never reached the Runner or it ignores"
              + " the key, the one this upload made)", spec.userId(), spec.jobId(),
              upload.taskId());
          runner.cancel(upload.taskId());
        });
  }

  /** A task's log fields: its user and job, and its Runner task when it resumes one. */
  private static Map<String, String> fields(JobSpec spec) {
    Map<String, String> fields = new HashMap<>();
    fields.put(LogFields.USER_ID, Long.toString(spec.userId()));
    fields.put(LogFields.JOB_ID, spec.jobId());
    if (spec.taskId() != null) {
      fields.put(LogFields.TASK_ID, spec.taskId());
    }
    return fields;
  }

  @Override
  public CompletionStage<Map<Long, String>> running(Duration timeout) {
    return AskPattern.<JobRegistry.Command, JobRegistry.Running>ask(
            registry, JobRegistry.ListRunning::new, timeout, system.scheduler())
        .thenApply(JobRegistry.Running::jobs);
  }

  /** The Runner client of this node (for health checks). */
  public RunnerClient runner() {
    return runner;
  }

  private static String childName(String jobId) {
    return "job-" + jobId;
  }
}
