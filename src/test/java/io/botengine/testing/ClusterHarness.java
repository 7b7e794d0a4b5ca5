package io.botengine.testing;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.sharding.typed.GetClusterShardingStats;
import akka.cluster.sharding.typed.GetShardRegionState;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.http.javadsl.Http;
import akka.remote.testkit.Direction;
import akka.remote.testkit.SetThrottle;
import akka.remote.testkit.ThrottleMode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.botengine.Engine;
import io.botengine.job.RunnerJobs;
import io.botengine.lease.LeaseStore;
import io.botengine.sandbox.BotApiEmulator;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.RunnerEmulator;
import io.botengine.user.UserEntity;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Several engine nodes (one actor system each, in this JVM) joined into one cluster on one fresh
 * PostgreSQL database, and the Bot API and Runner emulators in an actor system of their own. Every
 * node joins through the nodes already running. Nodes can leave gracefully ({@link #leave}) or
 * crash ({@link #crash}: the actor system stops without coordinated shutdown, so nothing is handed
 * over and the survivors' Split Brain Resolver has to down it).
 */
public final class ClusterHarness implements AutoCloseable {
  public static final String TOKEN = EngineHarness.TOKEN;
  public static final Duration WAIT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<Void> emulators;
  public final BotApiEmulator bot;
  public final RunnerEmulator runner;
  public final String jdbcUrl;
  /** A crashed node is found unreachable in about 3 s and downed 2 s later (not production). */
  private static final Map<String, Object> FAST_FAILOVER = Map.of(
      "akka.cluster.failure-detector.heartbeat-interval", "500ms",
      "akka.cluster.failure-detector.acceptable-heartbeat-pause", "3s",
      "bot.cluster.sbr-stable-after", "2s",
      "akka.cluster.gossip-interval", "200ms",
      "akka.cluster.leader-actions-interval", "200ms");

  private final Map<String, Object> overrides;
  private final boolean fastFailover;
  private final List<Engine> nodes = new ArrayList<>();
  private final List<Integer> httpPorts = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  /**
   * A fresh database and the emulators; no node yet. {@code overrides} win over the cluster test
   * settings for every node. Skips (or fails in CI) when PostgreSQL is not reachable.
   */
  public ClusterHarness(Map<String, Object> overrides) {
    this(overrides, true);
  }

  /**
   * As {@link #ClusterHarness(Map)}; {@code fastFailover} false keeps the production failure
   * detector, Split Brain Resolver and gossip settings, for tests of how long a failover takes.
   */
  public ClusterHarness(Map<String, Object> overrides, boolean fastFailover) {
    this.fastFailover = fastFailover;
    this.jdbcUrl = Postgres.freshDatabase();
    this.overrides = Map.copyOf(overrides);
    emulators = ActorSystem.create(Behaviors.empty(), "emulators",
        ConfigFactory.parseString("akka.actor.provider = local\nakka.remote.artery.enabled = off")
            .withFallback(ConfigFactory.load("application-test.conf")));
    bot = BotApiEmulator.start(emulators, "127.0.0.1", 0, TOKEN);
    runner = RunnerEmulator.start(emulators, "127.0.0.1", 0, EngineHarness.RUNNER_KEY);
  }

  /**
   * Starts {@code count} nodes one after another and waits until all are Up and ready, and the
   * shard coordinator knows every node's region (else it would give the first users all to the
   * oldest node).
   */
  public ClusterHarness startNodes(int count) {
    return startNodes(count, Map.of());
  }

  /** As {@link #startNodes(int)}, node {@code n} with {@code perNode.get(n)} over the overrides. */
  public ClusterHarness startNodes(int count, Map<Integer, Map<String, Object>> perNode) {
    for (int i = 0; i < count; i++) {
      startNode(perNode.getOrDefault(i, Map.of()));
    }
    awaitMembersUp(count);
    awaitAssert(WAIT, () -> runningNodes().forEach(n -> {
      if (httpStatus(n, "/health/ready") != 200) {
        throw new AssertionError("node " + n + " is not ready");
      }
    }));
    awaitAssert(WAIT, () -> {
      Set<Address> regions = shardRegions();
      if (regions.size() != count) {
        throw new AssertionError("shard regions known to the coordinator: " + regions);
      }
    });
    return this;
  }

  /** The nodes whose user shard region the coordinator knows. */
  private Set<Address> shardRegions() {
    ActorSystem<Void> system = node(runningNodes().get(0)).system();
    ShardRegion.ClusterShardingStats stats =
        AskPattern.<akka.cluster.sharding.typed.ClusterShardingQuery,
                ShardRegion.ClusterShardingStats>ask(
                ClusterSharding.get(system).shardState(),
                replyTo -> new GetClusterShardingStats(
                    UserEntity.ENTITY_KEY, Duration.ofSeconds(3), replyTo),
                Duration.ofSeconds(5),
                system.scheduler())
            .toCompletableFuture()
            .join();
    return stats.getRegions().keySet();
  }

  /** Starts one more node, joining the running ones; returns its number. */
  public int startNode() {
    return startNode(Map.of());
  }

  private int startNode(Map<String, Object> own) {
    List<String> seeds = new ArrayList<>();
    for (Engine node : nodes) {
      if (node != null) {
        Address a = Cluster.get(node.system()).selfMember().address();
        seeds.add(a.getHost().get() + ":" + a.getPort().get());
      }
    }
    Engine engine = Engine.start(config(String.join(",", seeds), own), RunnerJobs::new);
    nodes.add(engine);
    httpPorts.add(engine.httpPort(WAIT));
    return nodes.size() - 1;
  }

  private Config config(String seedNodes, Map<String, Object> own) {
    Map<String, Object> values = new HashMap<>();
    values.put("bot.telegram.token", TOKEN);
    values.put("bot.telegram.api-url", bot.baseUrl());
    values.put("bot.telegram.polling.timeout", "2s");
    values.put("bot.telegram.polling.min-backoff", "100ms");
    values.put("bot.runner.url", runner.baseUrl());
    values.put("bot.runner.api-key", EngineHarness.RUNNER_KEY);
    values.put("bot.runner.stream-min-backoff", "50ms");
    values.put("bot.runner.stream-max-backoff", "200ms");
    values.put("bot.admin.api-token", EngineHarness.ADMIN_TOKEN);
    values.put("bot.persistence.jdbc-url", jdbcUrl);
    values.put("bot.persistence.user", Postgres.USER);
    values.put("bot.persistence.max-connections", 5);
    values.put("bot.cluster.seed-nodes", seedNodes);
    // As in production: a resume must not wait for the registry's periodic wake.
    values.put("bot.jobs.wake-interval", "30s");
    values.put("akka.persistence.journal.plugin", "jdbc-journal");
    values.put("akka.persistence.snapshot-store.plugin", "jdbc-snapshot-store");
    values.put("akka.loglevel", "INFO");
    // A crashed node must not run coordinated shutdown as its cluster daemon stops (no hand-over).
    values.put("akka.cluster.run-coordinated-shutdown-when-down", "off");
    // terminate() is then a crash; a graceful stop runs coordinated shutdown itself (Engine.close).
    values.put("akka.coordinated-shutdown.run-by-actor-system-terminate", "off");
    if (fastFailover) {
      values.putAll(FAST_FAILOVER);
    }
    values.putAll(overrides);
    values.putAll(own);
    return ConfigFactory.load(
        ConfigFactory.parseMap(values)
            .withFallback(ConfigFactory.parseResourcesAnySyntax("application-test.conf")));
  }

  /** Waits until every running node sees exactly {@code count} members, all Up. */
  public void awaitMembersUp(int count) {
    awaitAssert(WAIT, () -> {
      for (Engine node : running()) {
        List<MemberStatus> statuses = new ArrayList<>();
        Cluster.get(node.system()).state().getMembers().forEach(m -> statuses.add(m.status()));
        if (statuses.size() != count || !statuses.stream().allMatch(MemberStatus.up()::equals)) {
          throw new AssertionError("members seen by " + address(node) + ": " + statuses);
        }
      }
    });
  }

  public Engine node(int number) {
    Engine engine = nodes.get(number);
    if (engine == null) {
      throw new IllegalStateException("node " + number + " is not running");
    }
    return engine;
  }

  public int httpPort(int number) {
    node(number);
    return httpPorts.get(number);
  }

  /** The running nodes' numbers, oldest first. */
  public List<Integer> runningNodes() {
    List<Integer> numbers = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i) != null) {
        numbers.add(i);
      }
    }
    return numbers;
  }

  private List<Engine> running() {
    return nodes.stream().filter(n -> n != null).toList();
  }

  public static Address address(Engine node) {
    return Cluster.get(node.system()).selfMember().address();
  }

  /** The users whose actors live on this node right now. */
  public Set<Long> hostedUsers(int number) {
    Set<Long> users = new TreeSet<>();
    hostedShards(number).values().forEach(users::addAll);
    return users;
  }

  /** The shards of the user entity this node hosts right now, with their users' ids. */
  public Map<String, Set<Long>> hostedShards(int number) {
    ActorSystem<Void> system = node(number).system();
    ShardRegion.CurrentShardRegionState state =
        AskPattern.<akka.cluster.sharding.typed.ClusterShardingQuery,
                ShardRegion.CurrentShardRegionState>ask(
                ClusterSharding.get(system).shardState(),
                replyTo -> new GetShardRegionState(UserEntity.ENTITY_KEY, replyTo),
                Duration.ofSeconds(5),
                system.scheduler())
            .toCompletableFuture()
            .join();
    Map<String, Set<Long>> shards = new HashMap<>();
    state.getShards().forEach(s -> {
      Set<Long> users = new TreeSet<>();
      s.getEntityIds().forEach(id -> users.add(Long.parseLong(id)));
      shards.put(s.shardId(), users);
    });
    return shards;
  }

  /** Coordinated shutdown of one node: it hands its users over and leaves. Waits for it. */
  public void leave(int number) {
    Engine engine = node(number);
    nodes.set(number, null);
    engine.close();
  }

  /**
   * Stops one node's actor system without coordinated shutdown: no hand-over, no leaving; its
   * actors and connections just stop, as when the process is killed; its leases are neither
   * renewed nor released, so they expire. Waits for it.
   */
  public void crash(int number) {
    Engine engine = node(number);
    nodes.set(number, null);
    kill(engine.system());
  }

  /**
   * Stops a node's actor system as a killed process stops: its leases neither renewed nor
   * released, no coordinated shutdown. Waits for it.
   */
  public static void kill(ActorSystem<?> system) {
    LeaseStore.get(system).halt();
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(system.name() + " at " + Cluster.get(system).selfMember()
          .address() + " did not stop", e);
    }
  }

  /**
   * Cuts the network between this node and every other one, both ways (Artery's test mode must be
   * on: {@code akka.remote.artery.advanced.test-mode}); the node still reaches the database, the
   * Runner and Telegram, as a node behind a broken switch would.
   */
  public void cutOff(int number) {
    for (int other : runningNodes()) {
      if (other != number) {
        blackhole(number, other);
        blackhole(other, number);
      }
    }
  }

  private void blackhole(int from, int to) {
    akka.actor.ExtendedActorSystem system =
        (akka.actor.ExtendedActorSystem) Adapter.toClassic(node(from).system());
    ((akka.remote.RemoteActorRefProvider) system.provider()).transport()
        .managementCommand(new SetThrottle(address(node(to)), Direction.bothDirection(),
            ThrottleMode.blackholeThrottleMode()));
  }

  /** Waits until this node has stopped by itself (downed by its own Split Brain Resolver). */
  public void awaitStoppedByItself(int number, Duration max) {
    Engine engine = node(number);
    try {
      engine.system().getWhenTerminated().toCompletableFuture()
          .get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("node " + number + " did not stop within " + max, e);
    }
    nodes.set(number, null);
  }

  // ---------------------------------------------------------------- users and jobs

  /** Each user sends /cv, waits for the prompt, then sends a small TXT CV (a job starts). */
  public void startJobs(List<Long> users) {
    for (long user : users) {
      bot.sendText(user, "/cv", "ru");
    }
    for (long user : users) {
      bot.awaitSent(user, 1, WAIT);
      bot.sendDocument(user, "cv.txt", "text/plain", "CV".getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The texts of the Runner outputs ("Вывод n") the user got so far, in order. */
  public List<String> outputs(long user) {
    return bot.sentTo(user).stream()
        .map(Sent::text)
        .filter(t -> t != null && t.startsWith("Вывод "))
        .toList();
  }

  /** The Runner task the user's job was uploaded as (exactly one upload expected). */
  public String taskOf(long user) {
    List<String> tasks = runner.uploads().stream()
        .filter(u -> u.telegramId() == user)
        .map(RunnerEmulator.Upload::taskId)
        .toList();
    if (tasks.size() != 1) {
      throw new AssertionError("user " + user + " uploaded " + tasks.size() + " times: " + tasks);
    }
    return tasks.get(0);
  }

  // ---------------------------------------------------------------- admin API and journal

  /** GET /admin/users/{id} on the given node, as JSON. */
  public JsonNode adminUser(int number, long user) {
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort(number) + "/admin/users/" + user))
            .timeout(WAIT)
            .header("Authorization", "Bearer " + EngineHarness.ADMIN_TOKEN)
            .GET()
            .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError("admin API answered " + response.statusCode() + ": "
            + response.body());
      }
      return JSON.readTree(response.body());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException("admin API call failed", e);
    }
  }

  /** POSTs a Telegram update to a node's webhook, as a load balancer would; returns the status. */
  public CompletableFuture<Integer> postWebhook(int number, String secret, String update) {
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort(number) + "/telegram/webhook"))
            .timeout(WAIT)
            .header("Content-Type", "application/json")
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .POST(HttpRequest.BodyPublishers.ofString(update))
            .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .thenApply(HttpResponse::statusCode);
  }

  /** GET on a node's HTTP server; returns the status code. */
  public int httpStatus(int number, String path) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort(number) + path))
            .timeout(WAIT)
            .GET()
            .build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException("GET " + path + " failed", e);
    }
  }

  /** The payloads (JSON) of one kind of event in the user's journal, in order. */
  public List<JsonNode> journalEvents(long user, Class<?> eventClass) {
    String sql = "SELECT event_payload FROM event_journal WHERE persistence_id = ?"
        + " AND event_ser_manifest = ? AND NOT deleted ORDER BY sequence_number";
    try (Connection c = DriverManager.getConnection(jdbcUrl, Postgres.USER, "");
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, UserEntity.ENTITY_KEY.name() + "|" + user);
      s.setString(2, eventClass.getName());
      List<JsonNode> events = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          events.add(JSON.readTree(rs.getBytes(1)));
        }
      }
      return events;
    } catch (SQLException | IOException e) {
      throw new IllegalStateException("cannot read the journal", e);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Retries {@code assertion} until it passes or {@code max} is over. */
  public void awaitAssert(Duration max, Runnable assertion) {
    TestProbe.<Object>create(emulators).awaitAssert(max, () -> {
      assertion.run();
      return null;
    });
  }

  /** A one-line picture of who hosts which users, for failure messages and the test report. */
  public String hosting() {
    return runningNodes().stream()
        .map(n -> "node " + n + ": " + hostedUsers(n))
        .collect(Collectors.joining("; "));
  }

  /** Stops every node (abruptly: the test is over), the emulators, and drops the database. */
  @Override
  public void close() {
    List<Engine> stopping = running();
    nodes.replaceAll(n -> null);
    for (Engine engine : stopping) {
      try {
        Http.get(engine.system()).shutdownAllConnectionPools().toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.out.println("connection pools did not stop: " + e);
      }
      engine.system().terminate();
    }
    for (Engine engine : stopping) {
      try {
        engine.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.out.println("a node did not stop: " + e);
      }
    }
    bot.close();
    runner.close();
    emulators.terminate();
    Postgres.drop(jdbcUrl);
  }
}
