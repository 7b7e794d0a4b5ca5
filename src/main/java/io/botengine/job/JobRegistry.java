package io.botengine.job;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.SingletonActor;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import io.botengine.JsonSerializable;
import io.botengine.user.UserEntity;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Remembers which users have a running job (a Cluster Singleton, event sourced). At start and
 * every {@code wake-interval} it wakes each of them through sharding: a user actor lost with a
 * restart or a dead node comes back by itself and resumes its job, and a user with a running job
 * is never passivated for being idle (the wake counts as sharding traffic). A user that answers
 * the wake with "no job" is forgotten, so a lost {@link Finished} heals itself.
 */
public final class JobRegistry
    extends EventSourcedBehavior<JobRegistry.Command, JobRegistry.Event, JobRegistry.State> {

  /** What the registry is told. */
  public sealed interface Command extends JsonSerializable {}

  /** A job of this user runs (sent by its task actor when it starts). */
  public record Running(long userId, String jobId) implements Command {}

  /** This job of the user ended (sent by its task actor when it stops). */
  public record Finished(long userId, String jobId) implements Command {}

  private enum WakeAll implements Command {
    INSTANCE
  }

  private record WakeAnswer(long userId, String jobId, boolean running) implements Command {}

  /** What the registry persists. */
  public sealed interface Event extends JsonSerializable {}

  /** A user's job started. */
  public record JobRegistered(long userId, String jobId) implements Event {}

  /** A user's job is over. */
  public record JobUnregistered(long userId, String jobId) implements Event {}

  /** Running jobs by user id. */
  public record State(Map<Long, String> running) implements JsonSerializable {
    public State {
      running = Map.copyOf(running);
    }

    State with(long userId, String jobId) {
      Map<Long, String> next = new HashMap<>(running);
      next.put(userId, jobId);
      return new State(next);
    }

    State without(long userId, String jobId) {
      if (!jobId.equals(running.get(userId))) {
        return this;
      }
      Map<Long, String> next = new HashMap<>(running);
      next.remove(userId);
      return new State(next);
    }
  }

  /** Starts the singleton (or its proxy) on this node and returns the proxy. */
  public static ActorRef<Command> init(ActorSystem<?> system, Duration wakeInterval) {
    return ClusterSingleton.get(system)
        .init(SingletonActor.of(create(wakeInterval), "job-registry"));
  }

  static Behavior<Command> create(Duration wakeInterval) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new JobRegistry(ctx, timers, wakeInterval)));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Duration wakeInterval;

  private JobRegistry(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, Duration wakeInterval) {
    super(PersistenceId.ofUniqueId("job-registry"));
    this.ctx = ctx;
    this.timers = timers;
    this.wakeInterval = wakeInterval;
  }

  @Override
  public State emptyState() {
    return new State(Map.of());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(200, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              ctx.getLog().info("{} users with a running job to wake", state.running().size());
              ctx.getSelf().tell(WakeAll.INSTANCE);
              timers.startTimerWithFixedDelay(WakeAll.INSTANCE, wakeInterval);
            })
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(
            Running.class,
            (s, c) ->
                c.jobId().equals(s.running().get(c.userId()))
                    ? Effect().none()
                    : Effect().persist(new JobRegistered(c.userId(), c.jobId())))
        .onCommand(
            Finished.class,
            (s, c) ->
                c.jobId().equals(s.running().get(c.userId()))
                    ? Effect().persist(new JobUnregistered(c.userId(), c.jobId()))
                    : Effect().none())
        .onCommand(WakeAll.class, this::onWakeAll)
        .onCommand(
            WakeAnswer.class,
            (s, c) ->
                !c.running() && c.jobId().equals(s.running().get(c.userId()))
                    ? Effect().persist(new JobUnregistered(c.userId(), c.jobId()))
                    : Effect().none())
        .build();
  }

  private akka.persistence.typed.javadsl.Effect<Event, State> onWakeAll(State s, WakeAll w) {
    ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
    Duration timeout = wakeInterval;
    s.running()
        .forEach(
            (userId, jobId) ->
                ctx.ask(
                    Boolean.class,
                    sharding.entityRefFor(UserEntity.ENTITY_KEY, Long.toString(userId)),
                    timeout,
                    UserEntity.Wake::new,
                    (running, error) ->
                        new WakeAnswer(userId, jobId, error != null || running)));
    return Effect().none();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(JobRegistered.class, (s, e) -> s.with(e.userId(), e.jobId()))
        .onEvent(JobUnregistered.class, (s, e) -> s.without(e.userId(), e.jobId()))
        .build();
  }
}
