package io.botengine.job;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.Behaviors;
import io.botengine.Metrics;

/**
 * Watches each task actor this node starts and keeps {@code botengine_jobs_running} at the number
 * still alive, however they stop. One per node, for as long as the node runs.
 */
final class RunningTasks {
  /** A task actor was started on this node. */
  record Started(ActorRef<?> task) {}

  private RunningTasks() {}

  static Behavior<Started> create(Metrics metrics) {
    return Behaviors.setup(ctx -> Behaviors.receive(Started.class)
        .onMessage(Started.class, s -> {
          metrics.taskStarted();
          ctx.watch(s.task());
          return Behaviors.same();
        })
        .onSignal(Terminated.class, t -> {
          metrics.taskStopped();
          return Behaviors.same();
        })
        .build());
  }
}
