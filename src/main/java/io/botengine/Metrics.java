package io.botengine;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * This node's metrics (an Akka extension: one registry per actor system, so the nodes of a test
 * cluster in one JVM count apart), shown by {@code GET /metrics} in Prometheus text format. Every
 * engine metric is named {@code botengine_*}; the JVM's keep Micrometer's standard names. The code
 * that does a thing counts it with one call here; counters are per node.
 */
public final class Metrics implements Extension {
  private static final ExtensionId<Metrics> ID =
      new ExtensionId<>() {
        @Override
        public Metrics createExtension(ActorSystem<?> system) {
          return new Metrics();
        }
      };

  /** Buckets of {@code botengine_output_latency_seconds}: 50 ms to 2 min. */
  private static final Duration[] LATENCY_BUCKETS = {
    Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
    Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
    Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120)
  };

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter jobsStarted;
  private final Counter outputsDelivered;
  private final Timer outputLatency;
  private final Counter retryAfter;
  private final Counter reconnects;
  private final Counter pollingFallbacks;
  private final Counter tokensCharged;
  private final AtomicInteger jobsRunning = new AtomicInteger();
  private final Set<Collection<?>> outboxQueues = ConcurrentHashMap.newKeySet();
  /** The Bot API call counters by method, then status: built once each, not on every call. */
  private final Map<String, Map<String, Counter>> telegramCalls = new ConcurrentHashMap<>();

  private Metrics() {
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    jobsStarted = counter("botengine.jobs.started", "Jobs started on this node (file accepted)");
    outputsDelivered =
        counter("botengine.outputs.delivered", "Runner outputs Telegram accepted, from this node");
    outputLatency =
        Timer.builder("botengine.output.latency")
            .description("From a Runner output frame received to Telegram's acceptance of it")
            .serviceLevelObjectives(LATENCY_BUCKETS)
            .register(registry);
    retryAfter =
        counter("botengine.telegram.retry.after.seconds", "Seconds Telegram asked to wait (429)");
    reconnects =
        counter("botengine.runner.stream.reconnects", "Runner event stream reconnection attempts");
    pollingFallbacks =
        counter("botengine.runner.polling.fallbacks", "Jobs that fell back to polling the Runner");
    tokensCharged = counter("botengine.tokens.charged", "Tokens charged for successful jobs");
    Gauge.builder("botengine.jobs.running", jobsRunning, AtomicInteger::get)
        .description("Task actors running on this node")
        .register(registry);
    Gauge.builder("botengine.outbox.depth", outboxQueues, Metrics::queued)
        .description("Messages waiting in this node's chat outboxes")
        .register(registry);
  }

  /** The metrics of {@code system}'s node. */
  public static Metrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The registry, for gauges of the wiring ({@link NodeGauges}). */
  MeterRegistry registry() {
    return registry;
  }

  /** All metrics in Prometheus text format. */
  public String scrape() {
    return registry.scrape();
  }

  /** An update reached the users through this node's ingress; {@code kind}: see UpdateKind. */
  public void update(String kind) {
    Counter.builder("botengine.updates").description("Telegram updates received by this node")
        .tag("kind", kind).register(registry).increment();
  }

  public void jobStarted() {
    jobsStarted.increment();
  }

  /** A job ended: {@code succeeded} or a {@code JobOutcome} in lower case. */
  public void jobFinished(String outcome) {
    Counter.builder("botengine.jobs.finished").description("Jobs ended, by outcome")
        .tag("outcome", outcome).register(registry).increment();
  }

  public void tokensCharged(long tokens) {
    tokensCharged.increment(tokens);
  }

  /** A task actor started here; {@link #taskStopped} when it stops. */
  public void taskStarted() {
    jobsRunning.incrementAndGet();
  }

  public void taskStopped() {
    jobsRunning.decrementAndGet();
  }

  /** An output reached Telegram {@code latency} after its frame arrived. */
  public void outputDelivered(Duration latency) {
    outputsDelivered.increment();
    outputLatency.record(latency);
  }

  /**
   * A Bot API call ended: {@code status} is {@code ok}, Telegram's error code, or {@code network}.
   */
  public void telegramCall(String method, String status) {
    telegramCalls.computeIfAbsent(method, m -> new ConcurrentHashMap<>())
        .computeIfAbsent(status, s ->
            Counter.builder("botengine.telegram.calls")
                .description("Bot API calls, by method and outcome")
                .tag("method", method).tag("status", s).register(registry))
        .increment();
  }

  public void retryAfter(long seconds) {
    retryAfter.increment(seconds);
  }

  /**
   * Counts {@code queue}'s size into {@code botengine_outbox_depth} until the returned action is
   * run. The gauge reads sizes from the scraping thread: a size seen mid-change is off by one at
   * most, which a gauge may be.
   */
  public Runnable trackQueue(Collection<?> queue) {
    outboxQueues.add(queue);
    return () -> outboxQueues.remove(queue);
  }

  private static double queued(Set<Collection<?>> queues) {
    long sum = 0;
    for (Collection<?> q : queues) {
      sum += Math.max(0, q.size());
    }
    return sum;
  }

  /** A call to the Runner failed; {@code kind} as in {@code RunnerFailure}. */
  public void runnerError(String kind) {
    Counter.builder("botengine.runner.errors").description("Failed Runner calls, by cause")
        .tag("kind", kind).register(registry).increment();
  }

  public void streamReconnect() {
    reconnects.increment();
  }

  public void pollingFallback() {
    pollingFallbacks.increment();
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).register(registry);
  }
}
