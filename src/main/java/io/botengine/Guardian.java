package io.botengine;

import akka.Done;
import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.Join;
import akka.cluster.typed.JoinSeedNodes;
import akka.cluster.typed.SingletonActor;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import io.botengine.job.JobLauncher;
import io.botengine.job.JobRegistry;
import akka.actor.typed.ActorRef;
import io.botengine.telegram.BotApiClient;
import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.RateLimiter;
import io.botengine.telegram.Texts;
import io.botengine.telegram.PollingIngress;
import io.botengine.telegram.UserDirectory;
import io.botengine.telegram.WebhookRoute;
import io.botengine.user.AdminRoutes;
import io.botengine.webapp.WebAppRoutes;
import io.botengine.user.UserEntity;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.telegram.telegrambots.meta.api.objects.commands.BotCommand;

/**
 * Wires one node: joins the cluster, starts user sharding, Telegram ingress (a polling singleton
 * or the webhook route) and the HTTP server. Owns nothing after start.
 */
final class Guardian {
  private static final List<String> MENU = List.of("cv", "balance", "buy", "paysupport", "cancel", "help");

  private Guardian() {}

  static Behavior<Void> create(
      EngineSettings settings,
      JobLauncher.Factory jobs,
      Function<ActorSystem<?>, Route> extraRoutes,
      CompletableFuture<ServerBinding> bound) {
    return Behaviors.setup(
        ctx -> {
          joinCluster(ctx.getSystem(), settings.cluster());
          BotApiClient telegram = new BotApiClient(ctx.getSystem(), settings.telegram(),
              settings.delivery().paidBroadcast());
          shutDownClientPoolsOnStop(ctx.getSystem(), telegram);
          JobLauncher launcher = jobs.create(ctx.getSystem(), waker(ctx.getSystem()));
          UserEntity.init(
              ctx.getSystem(),
              new UserEntity.Deps(
                  settings.billing(),
                  settings.payments(),
                  settings.user(),
                  settings.telegram().maxFileSize(),
                  telegram,
                  outboxDeps(ctx, settings, telegram),
                  launcher,
                  Clock.systemUTC()));
          UserDirectory users = directory(ctx.getSystem(), settings);
          List<Route> routes = new ArrayList<>();
          JournalProbe journal = new JournalProbe(ctx.getSystem(), settings.askTimeout());
          NodeGauges.start(ctx.getSystem(), UserEntity.ENTITY_KEY, journal);
          routes.add(new HealthRoutes(ctx.getSystem(), journal).route());
          routes.add(new MetricsRoute(Metrics.get(ctx.getSystem()), settings.ops().metricsToken())
              .route());
          routes.add(
              new AdminRoutes(ctx.getSystem(), settings.adminToken(), settings.askTimeout(),
                  launcher::running, singletons(settings.telegram()))
                  .route());
          routes.add(new WebAppRoutes(ctx.getSystem(), settings.ops().webApp(),
              settings.telegram().token(),
              WebAppRoutes.startHub(ctx.getSystem(), settings.ops().webApp())).route());
          startIngress(ctx, settings.telegram(), telegram, users, routes);
          Route extra = extraRoutes.apply(ctx.getSystem());
          if (extra != null) {
            routes.add(extra);
          }
          registerCommands(ctx, telegram);
          Route all =
              Directives.concat(
                  routes.get(0), routes.subList(1, routes.size()).toArray(new Route[0]));
          bind(ctx, settings.http(), all, bound);
          return Behaviors.empty();
        });
  }

  /** The cluster singletons every node starts (on the oldest member): the admin view names them. */
  private static List<String> singletons(EngineSettings.Telegram telegram) {
    return telegram.mode() == EngineSettings.Mode.POLLING
        ? List.of("job-registry", "telegram-polling")
        : List.of("job-registry");
  }

  /**
   * Client pools end before the system does, instead of failing "unexpectedly" under it; and only
   * once the Bot API calls in flight are answered: entities keep sending until sharding has
   * stopped them, and a request the pool drops is logged with its URI, the token in it.
   */
  private static void shutDownClientPoolsOnStop(ActorSystem<?> system, BotApiClient telegram) {
    akka.actor.CoordinatedShutdown.get(system.classicSystem())
        .addTask(
            akka.actor.CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "http-client-pools",
            () -> telegram.stop()
                .thenCompose(done -> Http.get(system).shutdownAllConnectionPools())
                .thenApply(done -> Done.getInstance()));
  }

  private static ChatOutbox.Deps outboxDeps(
      ActorContext<Void> ctx, EngineSettings settings, BotApiClient telegram) {
    EngineSettings.Delivery delivery = settings.delivery();
    // A call ends within the client's read timeout once it leaves the client's queue: a permit
    // held for twice that was never used (its outbox stopped before the call).
    Duration permitHeldAtMost = settings.telegram().clientReadTimeout().multipliedBy(2);
    ActorRef<RateLimiter.Command> limiter =
        delivery.globalRate() > 0
            ? ctx.spawn(RateLimiter.create(
                delivery.paidBroadcast() ? delivery.paidBroadcastRate() : delivery.globalRate(),
                delivery.globalHeadroom(), permitHeldAtMost), "telegram-rate")
            : null;
    return new ChatOutbox.Deps(telegram, limiter, delivery.chatRate(), delivery.chatBurst(),
        delivery.maxAttempts(), delivery.minBackoff(), delivery.maxBackoff(), null);
  }

  private static void joinCluster(ActorSystem<?> system, EngineSettings.ClusterSettings cluster) {
    Cluster c = Cluster.get(system);
    if (cluster.seedNodes().isEmpty()) {
      c.manager().tell(Join.create(c.selfMember().address()));
      return;
    }
    List<Address> seeds = new ArrayList<>();
    for (String node : cluster.seedNodes()) {
      int colon = node.lastIndexOf(':');
      seeds.add(new Address("akka", cluster.systemName(), node.substring(0, colon),
          Integer.parseInt(node.substring(colon + 1))));
    }
    c.manager().tell(new JoinSeedNodes(seeds));
  }

  private static UserDirectory directory(ActorSystem<?> system, EngineSettings settings) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Metrics metrics = Metrics.get(system);
    return inbound -> {
      metrics.update(UpdateKind.of(inbound));
      return sharding
            .entityRefFor(UserEntity.ENTITY_KEY, Long.toString(inbound.userId()))
            .<Done>askWithStatus(
                replyTo -> new UserEntity.HandleUpdate(inbound, replyTo), settings.askTimeout());
    };
  }

  /** How the job registry reaches a user: a {@link UserEntity.Wake} through sharding. */
  private static JobRegistry.Waker waker(ActorSystem<?> system) {
    ClusterSharding sharding = ClusterSharding.get(system);
    return (userId, timeout) ->
        sharding
            .entityRefFor(UserEntity.ENTITY_KEY, Long.toString(userId))
            .<Boolean>ask(UserEntity.Wake::new, timeout);
  }

  private static void startIngress(
      ActorContext<Void> ctx,
      EngineSettings.Telegram settings,
      BotApiClient telegram,
      UserDirectory users,
      List<Route> routes) {
    if (settings.mode() == EngineSettings.Mode.POLLING) {
      PollingIngress.Source source =
          new PollingIngress.Source() {
            @Override
            public java.util.concurrent.CompletionStage<List<org.telegram.telegrambots.meta.api.objects.Update>> getUpdates(long offset) {
              return telegram.getUpdates(offset);
            }

            @Override
            public java.util.concurrent.CompletionStage<Boolean> deleteWebhook() {
              return telegram.deleteWebhook();
            }
          };
      ClusterSingleton.get(ctx.getSystem())
          .init(SingletonActor.of(PollingIngress.create(source, users, settings),
              "telegram-polling"));
      return;
    }
    routes.add(new WebhookRoute(settings.webhookPath(), settings.webhookSecret(), users).route());
    if (!settings.webhookPublicUrl().isEmpty()) {
      telegram
          .setWebhook(settings.webhookPublicUrl(), settings.webhookSecret())
          .whenComplete(
              (ok, error) -> {
                if (error != null) {
                  ctx.getSystem().log().error("setWebhook failed: {}", error.getMessage());
                } else {
                  ctx.getSystem().log().info("webhook registered with Telegram");
                }
              });
    }
  }

  /** The command menu (texts_*.properties): Russian for everyone, English for "en" users. */
  private static void registerCommands(ActorContext<Void> ctx, BotApiClient telegram) {
    for (String language : List.of("", "en")) {
      Texts texts = Texts.of(language);
      List<BotCommand> menu =
          MENU.stream().map(name -> new BotCommand(name, texts.get("menu." + name))).toList();
      telegram
          .setMyCommands(menu, language.isEmpty() ? null : language)
          .whenComplete(
              (ok, error) -> {
                if (error != null) {
                  ctx.getSystem().log().warn("setMyCommands failed: {}", error.getMessage());
                }
              });
    }
  }

  private static void bind(
      ActorContext<Void> ctx,
      EngineSettings.Http http,
      Route route,
      CompletableFuture<ServerBinding> bound) {
    ActorSystem<?> system = ctx.getSystem();
    Http.get(system)
        .newServerAt(http.host(), http.port())
        .bind(route)
        .whenComplete(
            (binding, error) -> {
              if (error != null) {
                bound.completeExceptionally(error);
              } else {
                binding.addToCoordinatedShutdown(Duration.ofSeconds(5), system);
                bound.complete(binding);
              }
            });
  }
}
