package io.botengine.job;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.StashBuffer;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.ClusterEvent;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.SingletonActor;
import akka.cluster.typed.Subscribe;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.SnapshotAdapter;
import akka.persistence.typed.javadsl.CommandHandler;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehavior;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import io.botengine.JsonSerializable;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Remembers which users have a running job (a Cluster Singleton, restarted with backoff when its
 * journal fails). At start and every {@code wake-interval} it wakes each of them through sharding:
 * a user actor lost with a restart or a dead node comes back by itself and resumes its job, and a
 * user with a running job is never passivated for being idle (the wake counts as sharding
 * traffic). It wakes sooner when it can: a user handed over to another node at once ({@link
 * HandedOver}), everyone once the shards of a removed node can move. A user that answers the wake
 * with "no job" is forgotten, so a lost {@link Finished} heals itself.
 *
 * <p>It reaches the users through a {@link Waker} it is given (the wiring implements it with
 * sharding), so this package does not depend on the user entity.
 *
 * <p>The registry is a plain actor that keeps the running jobs in memory and has a child, {@link
 * Journal}, persist the changes: while one write is under way, the changes that arrive meanwhile
 * queue up and go in the next write, as one event. A registration is confirmed once the write that
 * holds it is done. (An event-sourced registry that persisted each change on its own kept every
 * command in its stash meanwhile; at thousands of job starts it dropped registrations past the
 * stash's capacity, and a run of commands that needed no write, such as retried registrations,
 * was replayed from the stash recursively until the stack overflowed.)
 */
public final class JobRegistry extends AbstractBehavior<JobRegistry.Command> {
  /**
   * How long after sharding's removal margin the registry wakes a removed node's users. The shard
   * coordinator is a singleton on this same (oldest) node and starts the margin when it sees the
   * same removal, so by then the shards are allocated again; a wake that still comes too early
   * waits in its shard region until the region's next {@code retry-interval}.
   */
  private static final Duration AFTER_MARGIN = Duration.ofMillis(200);
  private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  /** At most this many changes go in one event, so that an event stays a few dozen kilobytes. */
  static final int MAX_BATCH = 1_000;
  /** Commands kept while the journal recovers; a registration is a few dozen bytes. */
  private static final int STASH = 1_000_000;

  /**
   * Wakes one user's actor wherever sharding runs it; completes with whether a job still runs
   * there, or fails when no answer came within {@code timeout}.
   */
  @FunctionalInterface
  public interface Waker {
    CompletionStage<Boolean> wake(long userId, Duration timeout);
  }

  /** What the registry is told. */
  public sealed interface Command extends JsonSerializable {}

  /**
   * A job of this user runs (sent when its task starts or resumes); answered once the registry
   * has persisted it, so that the sender can retry until it does.
   */
  public record Register(long userId, String jobId, ActorRef<Done> replyTo) implements Command {}

  /**
   * This job's task actor stopped without ending the job (its user actor is being handed over to
   * another node, or passivated): wake its user now, wherever sharding starts it next.
   */
  public record HandedOver(String jobId) implements Command {}

  /** This job of the user ended (sent by its task actor when it stops). */
  public record Finished(long userId, String jobId) implements Command {}

  /** Admin: the running jobs, by user id, as the registry knows them. */
  public record ListRunning(ActorRef<Running> replyTo) implements Command {}

  /** The running jobs: job id by user id. */
  public record Running(Map<Long, String> jobs) implements JsonSerializable {
    public Running {
      jobs = Map.copyOf(jobs);
    }
  }

  private enum WakeAll implements Command {
    INSTANCE
  }

  /** What a wake round found: the jobs (by user id) whose users answered that none runs. */
  private record JobsGone(Map<Long, String> jobs) implements Command {}

  private enum MemberRemoved implements Command {
    INSTANCE
  }

  /** The journal recovered these running jobs. */
  private record Recovered(Map<Long, String> running) implements Command {}

  /** The journal persisted the oldest write under way. */
  private enum Written implements Command {
    INSTANCE
  }

  private enum PromptWake {
    KEY
  }

  /** What the registry persists. */
  public sealed interface Event extends JsonSerializable {}

  /** A user's job started (one change per event, as written before changes were batched). */
  public record JobRegistered(long userId, String jobId) implements Event {}

  /** A user's job is over (one change per event, as written before changes were batched). */
  public record JobUnregistered(long userId, String jobId) implements Event {}

  /** Jobs started ({@code running}) and ended, in the order they were told. */
  public record JobsChanged(List<Change> changes) implements Event {}

  /** One user's job started ({@code running}) or ended. */
  public record Change(long userId, String jobId, boolean running) {}

  /** Running jobs by user id: the journal's snapshot. */
  public record State(Map<Long, String> running) implements JsonSerializable {
    public State {
      running = Map.copyOf(running);
    }
  }

  /** Starts the singleton (or its proxy) on this node and returns the proxy. */
  public static ActorRef<Command> init(
      ActorSystem<?> system, Waker waker, Duration wakeInterval, Duration removalMargin) {
    Duration afterRemoval = removalMargin.plus(AFTER_MARGIN);
    return ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                Behaviors.supervise(create(waker, wakeInterval, afterRemoval))
                    .onFailure(
                        SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.2)),
                "job-registry"));
  }

  /**
   * The registry; it stops with an exception when its journal fails, to be restarted (and to
   * recover) by its supervisor. Unconfirmed registrations are retried by their senders.
   */
  static Behavior<Command> create(Waker waker, Duration wakeInterval, Duration afterRemoval) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    Behaviors.withStash(
                        STASH,
                        stash -> {
                          ActorRef<Journal.Write> journal =
                              ctx.spawn(Journal.create(ctx.getSelf()), "journal");
                          ctx.watch(journal);
                          return recovering(ctx, timers, stash, journal, waker,
                              wakeInterval, afterRemoval);
                        })));
  }

  private static Behavior<Command> recovering(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      StashBuffer<Command> stash,
      ActorRef<Journal.Write> journal,
      Waker waker,
      Duration wakeInterval,
      Duration afterRemoval) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Recovered.class,
            r -> {
              ctx.getLog().info("{} users with a running job to wake", r.running().size());
              Cluster.get(ctx.getSystem())
                  .subscriptions()
                  .tell(
                      Subscribe.create(
                          ctx.messageAdapter(
                              ClusterEvent.MemberRemoved.class, e -> MemberRemoved.INSTANCE),
                          ClusterEvent.MemberRemoved.class));
              ctx.getSelf().tell(WakeAll.INSTANCE);
              timers.startTimerWithFixedDelay(WakeAll.INSTANCE, wakeInterval);
              return stash.unstashAll(
                  new JobRegistry(
                      ctx, timers, journal, waker, r.running(), wakeInterval, afterRemoval));
            })
        .onMessage(
            Command.class,
            c -> {
              stash.stash(c);
              return Behaviors.same();
            })
        .onSignal(Terminated.class, t -> {
          throw new IllegalStateException("the job registry's journal did not recover");
        })
        .build();
  }

  /** A change to persist, or a registration to confirm once what is queued before it is. */
  private record Queued(Change change, ActorRef<Done> confirm) {}

  private final TimerScheduler<Command> timers;
  private final ActorRef<Journal.Write> journal;
  private final Waker waker;
  private final Duration wakeInterval;
  private final Duration afterRemoval;
  /** Running jobs as told, including changes not yet persisted. */
  private final Map<Long, String> running;
  private final ArrayDeque<Queued> queued = new ArrayDeque<>();
  /** Registrations to confirm when the write under way is done (null: no write under way). */
  private List<ActorRef<Done>> writing;

  private JobRegistry(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      ActorRef<Journal.Write> journal,
      Waker waker,
      Map<Long, String> running,
      Duration wakeInterval,
      Duration afterRemoval) {
    super(ctx);
    this.timers = timers;
    this.journal = journal;
    this.waker = waker;
    this.running = new HashMap<>(running);
    this.wakeInterval = wakeInterval;
    this.afterRemoval = afterRemoval;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Finished.class, this::onFinished)
        .onMessage(HandedOver.class, this::onHandedOver)
        .onMessage(MemberRemoved.class, this::onMemberRemoved)
        .onMessage(WakeAll.class, w -> {
          wake(running);
          return this;
        })
        .onMessage(ListRunning.class, l -> {
          l.replyTo().tell(new Running(running));
          return this;
        })
        .onMessage(JobsGone.class, this::onJobsGone)
        .onMessage(Written.class, this::onWritten)
        .onSignal(Terminated.class, t -> {
          throw new IllegalStateException("the job registry's journal failed");
        })
        .build();
  }

  private Behavior<Command> onRegister(Register r) {
    if (r.jobId().equals(running.get(r.userId()))) {
      if (writing == null && queued.isEmpty()) {
        r.replyTo().tell(Done.getInstance());
      } else {
        queued.add(new Queued(null, r.replyTo()));
      }
    } else {
      running.put(r.userId(), r.jobId());
      queued.add(new Queued(new Change(r.userId(), r.jobId(), true), r.replyTo()));
    }
    return write();
  }

  private Behavior<Command> onFinished(Finished f) {
    end(f.userId(), f.jobId());
    return write();
  }

  private Behavior<Command> onJobsGone(JobsGone gone) {
    gone.jobs().forEach(this::end);
    return write();
  }

  private void end(long userId, String jobId) {
    if (jobId.equals(running.get(userId))) {
      running.remove(userId);
      queued.add(new Queued(new Change(userId, jobId, false), null));
    }
  }

  private Behavior<Command> onWritten(Written w) {
    writing.forEach(r -> r.tell(Done.getInstance()));
    writing = null;
    return write();
  }

  /**
   * Unless a write is under way, persists what is queued (up to {@link #MAX_BATCH} changes);
   * registrations queued without a change are confirmed as soon as all before them are.
   */
  private Behavior<Command> write() {
    while (writing == null && !queued.isEmpty()) {
      List<Change> changes = new ArrayList<>();
      List<ActorRef<Done>> confirms = new ArrayList<>();
      while (!queued.isEmpty() && changes.size() < MAX_BATCH) {
        Queued q = queued.poll();
        if (q.change() != null) {
          changes.add(q.change());
        }
        if (q.confirm() != null) {
          confirms.add(q.confirm());
        }
      }
      if (changes.isEmpty()) {
        confirms.forEach(r -> r.tell(Done.getInstance()));
      } else {
        writing = confirms;
        journal.tell(new Journal.Write(changes));
      }
    }
    return this;
  }

  private Behavior<Command> onMemberRemoved(MemberRemoved m) {
    timers.startSingleTimer(PromptWake.KEY, WakeAll.INSTANCE, afterRemoval);
    return this;
  }

  private Behavior<Command> onHandedOver(HandedOver h) {
    running.forEach((userId, jobId) -> {
      if (jobId.equals(h.jobId())) {
        getContext().getLog().info("user {} job {}: handed over, waking it", userId, jobId);
        wake(Map.of(userId, jobId));
      }
    });
    return this;
  }

  /**
   * Wakes these users through the {@link Waker}. Their answers are gathered outside the actor, and one
   * {@link JobsGone} comes back per round: a round over thousands of running jobs is one message,
   * not thousands.
   */
  private void wake(Map<Long, String> jobs) {
    if (jobs.isEmpty()) {
      return;
    }
    List<CompletableFuture<Map.Entry<Long, String>>> answers = new ArrayList<>();
    jobs.forEach((userId, jobId) -> answers.add(
        waker.wake(userId, wakeInterval)
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
    getContext().pipeToSelf(
        gone, (ended, error) -> new JobsGone(ended == null ? Map.of() : ended));
  }

  /**
   * The registry's journal (persistence id {@code job-registry}): recovers the running jobs, tells
   * them to its parent, then persists each write it is given as one event and answers {@link
   * Written}. It stops when the journal fails, and its parent with it.
   */
  static final class Journal extends EventSourcedBehavior<Journal.Write, Event, Journal.Jobs> {
    /** Persist these changes as one event. */
    record Write(List<Change> changes) {}

    /**
     * Running jobs by user id, changed in place by each event rather than copied whole: only the
     * event handler touches it, a snapshot is a copy ({@link State}) taken before it is sent, and
     * the parent is told a copy.
     */
    static final class Jobs {
      private final Map<Long, String> running;

      Jobs(Map<Long, String> running) {
        this.running = new HashMap<>(running);
      }

      Jobs apply(List<Change> changes) {
        for (Change c : changes) {
          if (c.running()) {
            running.put(c.userId(), c.jobId());
          } else if (c.jobId().equals(running.get(c.userId()))) {
            running.remove(c.userId());
          }
        }
        return this;
      }
    }

    static Behavior<Write> create(ActorRef<Command> registry) {
      return Behaviors.setup(ctx -> new Journal(registry));
    }

    private final ActorRef<Command> registry;

    private Journal(ActorRef<Command> registry) {
      super(PersistenceId.ofUniqueId("job-registry"));
      this.registry = registry;
    }

    @Override
    public Jobs emptyState() {
      return new Jobs(Map.of());
    }

    /** Snapshots stay {@link State}, as written before the jobs were changed in place. */
    @Override
    public SnapshotAdapter<Jobs> snapshotAdapter() {
      return new SnapshotAdapter<>() {
        @Override
        public Object toJournal(Jobs jobs) {
          return new State(jobs.running);
        }

        @Override
        public Jobs fromJournal(Object from) {
          return new Jobs(((State) from).running());
        }
      };
    }

    @Override
    public RetentionCriteria retentionCriteria() {
      return RetentionCriteria.snapshotEvery(200, 2);
    }

    @Override
    public SignalHandler<Jobs> signalHandler() {
      return newSignalHandlerBuilder()
          .onSignal(RecoveryCompleted.instance(),
              jobs -> registry.tell(new Recovered(Map.copyOf(jobs.running))))
          .build();
    }

    @Override
    public CommandHandler<Write, Event, Jobs> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onCommand(Write.class, w -> Effect()
              .persist(new JobsChanged(w.changes()))
              .thenRun(s -> registry.tell(Written.INSTANCE)))
          .build();
    }

    @Override
    public EventHandler<Jobs, Event> eventHandler() {
      return newEventHandlerBuilder()
          .forAnyState()
          .onEvent(JobsChanged.class, (s, e) -> s.apply(e.changes()))
          .onEvent(JobRegistered.class,
              (s, e) -> s.apply(List.of(new Change(e.userId(), e.jobId(), true))))
          .onEvent(JobUnregistered.class,
              (s, e) -> s.apply(List.of(new Change(e.userId(), e.jobId(), false))))
          .build();
    }
  }
}
