package io.botengine.job;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.ClusterEvent;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.SingletonActor;
import akka.cluster.typed.Subscribe;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.Effect;
import akka.persistence.typed.javadsl.EffectBuilder;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import com.typesafe.config.Config;
import io.botengine.JsonSerializable;
import io.botengine.user.UserEntity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Remembers which users have a running job (a Cluster Singleton, event sourced, restarted with
 * backoff when the journal fails). At start and every {@code wake-interval} it wakes each of them
 * through sharding: a user actor lost with a restart or a dead node comes back by itself and
 * resumes its job, and a user with a running job is never passivated for being idle (the wake
 * counts as sharding traffic). It wakes sooner when it can: a user handed over to another node at
 * once ({@link HandedOver}), everyone once the shards of a removed node can move. A user that
 * answers the wake with "no job" is forgotten, so a lost {@link Finished} heals itself.
 */
public final class JobRegistry
    extends EventSourcedBehavior<JobRegistry.Command, JobRegistry.Event, JobRegistry.State> {
  private static final Duration AFTER_REMOVAL = Duration.ofSeconds(2);
  private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  /** What the registry is told. */
  public sealed interface Command extends JsonSerializable {}

  /**
   * A job of this user runs (sent when its task starts or resumes); answered once the registry
   * has it, so that the sender can retry until it does.
   */
  public record Register(long userId, String jobId, ActorRef<Done> replyTo) implements Command {}

  /**
   * This job's task actor stopped without ending the job (its user actor is being handed over to
   * another node, or passivated): wake its user now, wherever sharding starts it next.
   */
  public record HandedOver(String jobId) implements Command {}

  /** This job of the user ended (sent by its task actor when it stops). */
  public record Finished(long userId, String jobId) implements Command {}

  private enum WakeAll implements Command {
    INSTANCE
  }

  /** What a wake round found: the jobs (by user id) whose users answered that none runs. */
  private record JobsGone(Map<Long, String> jobs) implements Command {}

  private enum MemberRemoved implements Command {
    INSTANCE
  }

  private enum PromptWake {
    KEY
  }

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
    Duration afterRemoval = removalMargin(system.settings().config()).plus(AFTER_REMOVAL);
    return ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                Behaviors.supervise(create(wakeInterval, afterRemoval))
                    .onFailure(
                        SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.2)),
                "job-registry"));
  }

  /**
   * How long after a node is removed sharding waits before it starts that node's shards elsewhere
   * ({@code akka.cluster.down-removal-margin}, which the Split Brain Resolver sets to its
   * {@code stable-after} when left off).
   */
  static Duration removalMargin(Config config) {
    if (!"off".equals(config.getString("akka.cluster.down-removal-margin"))) {
      return config.getDuration("akka.cluster.down-removal-margin");
    }
    String downing = config.getString("akka.cluster.downing-provider-class");
    return downing.endsWith("SplitBrainResolverProvider")
        ? config.getDuration("akka.cluster.split-brain-resolver.stable-after")
        : Duration.ZERO;
  }

  static Behavior<Command> create(Duration wakeInterval, Duration afterRemoval) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new JobRegistry(ctx, timers, wakeInterval, afterRemoval)));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Duration wakeInterval;
  private final Duration afterRemoval;

  private JobRegistry(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Duration wakeInterval,
      Duration afterRemoval) {
    super(
        PersistenceId.ofUniqueId("job-registry"),
        SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.2));
    this.ctx = ctx;
    this.timers = timers;
    this.wakeInterval = wakeInterval;
    this.afterRemoval = afterRemoval;
  }

  @Override
  public State emptyState() {
    return new State(Map.of());
  }

  /**
   * Every job start and end is one persist, one after the other, and commands wait in the stash
   * meanwhile. Akka's default of 4,096 dropped 360 of the benchmark's 10,000 job starts (about 130
   * starts/s); those users were not woken and were passivated mid-job. A registration is a few
   * dozen bytes: keep them all.
   */
  @Override
  public Optional<Integer> stashCapacity() {
    return Optional.of(1_000_000);
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
              Cluster.get(ctx.getSystem())
                  .subscriptions()
                  .tell(
                      Subscribe.create(
                          ctx.messageAdapter(
                              ClusterEvent.MemberRemoved.class, e -> MemberRemoved.INSTANCE),
                          ClusterEvent.MemberRemoved.class));
            })
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Register.class, this::onRegister)
        .onCommand(Finished.class, this::onFinished)
        .onCommand(HandedOver.class, this::onHandedOver)
        .onCommand(MemberRemoved.class, this::onMemberRemoved)
        .onCommand(WakeAll.class, this::onWakeAll)
        .onCommand(JobsGone.class, this::onJobsGone)
        .build();
  }

  private Effect<Event, State> onRegister(State s, Register c) {
    return register(s, c.userId(), c.jobId()).thenReply(c.replyTo(), x -> Done.getInstance());
  }

  private EffectBuilder<Event, State> register(State s, long userId, String jobId) {
    return jobId.equals(s.running().get(userId))
        ? Effect().none()
        : Effect().persist(new JobRegistered(userId, jobId));
  }

  private Effect<Event, State> onFinished(State s, Finished c) {
    return c.jobId().equals(s.running().get(c.userId()))
        ? Effect().persist(new JobUnregistered(c.userId(), c.jobId()))
        : Effect().none();
  }

  private Effect<Event, State> onMemberRemoved(State s, MemberRemoved c) {
    timers.startSingleTimer(PromptWake.KEY, WakeAll.INSTANCE, afterRemoval);
    return Effect().none();
  }

  private Effect<Event, State> onJobsGone(State s, JobsGone gone) {
    List<Event> ended = new ArrayList<>();
    gone.jobs().forEach((userId, jobId) -> {
      if (jobId.equals(s.running().get(userId))) {
        ended.add(new JobUnregistered(userId, jobId));
      }
    });
    return ended.isEmpty() ? Effect().none() : Effect().persist(ended);
  }

  private Effect<Event, State> onWakeAll(State s, WakeAll w) {
    wake(s.running());
    return Effect().none();
  }

  private Effect<Event, State> onHandedOver(State s, HandedOver h) {
    s.running().forEach((userId, jobId) -> {
      if (jobId.equals(h.jobId())) {
        ctx.getLog().info("user {} job {}: handed over, waking it", userId, jobId);
        wake(Map.of(userId, jobId));
      }
    });
    return Effect().none();
  }

  /**
   * Wakes these users through sharding. Their answers are gathered outside the actor, and one
   * {@link JobsGone} comes back per round: a round over thousands of running jobs is one message,
   * not thousands.
   */
  private void wake(Map<Long, String> jobs) {
    if (jobs.isEmpty()) {
      return;
    }
    ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
    List<CompletableFuture<Map.Entry<Long, String>>> answers = new ArrayList<>();
    jobs.forEach((userId, jobId) -> answers.add(
        sharding.entityRefFor(UserEntity.ENTITY_KEY, Long.toString(userId))
            .<Boolean>ask(UserEntity.Wake::new, wakeInterval)
            .handle((running, error) ->
                error == null && !running ? Map.entry(userId, jobId) : null)
            .toCompletableFuture()));
    CompletableFuture<Map<Long, String>> gone =
        CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
            .thenApply(all -> {
              Map<Long, String> ended = new HashMap<>();
              answers.forEach(a -> {
                Map.Entry<Long, String> e = a.join();
                if (e != null) {
                  ended.put(e.getKey(), e.getValue());
                }
              });
              return ended;
            });
    ctx.pipeToSelf(gone, (ended, error) -> new JobsGone(ended == null ? Map.of() : ended));
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
