package io.botengine;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.pubsub.Topic;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Where a user's chat events for web clients are published (an Akka extension per node): one
 * distributed pub-sub {@link Topic} per user, {@code webapp-events-<user id>}, so whichever node
 * serves the user's web client hears what happens on whichever node hosts the user's actor. The
 * code where a thing happens publishes it with one call here; nothing is kept on this side.
 *
 * <p>Each event gets an id unique in the cluster when it is published ({@code <node>-<n>}, the node
 * part random per start), so every serving node that heard it knows it by the same id. The topic
 * actors of this node live under one registry actor, which stops a user's topic after {@code
 * bot.webapp.topic-idle} without a publication, or after {@code bot.webapp.unfollowed-topic-idle}
 * when no web client followed the user when last asked. Events of a user no node subscribes to
 * are not sent anywhere, and their JSON is never made: the publishing calls hand in how to make
 * it, and the registry makes it only for an event that goes out.
 */
public final class WebEvents implements Extension {
  private static final ExtensionId<WebEvents> ID =
      new ExtensionId<>() {
        @Override
        public WebEvents createExtension(ActorSystem<?> system) {
          return new WebEvents(system);
        }
      };

  /**
   * How long a publishing topic stays without a publication (it is made again on the next event):
   * {@code followed} while some web client follows the user, {@code unfollowed} otherwise, which
   * is most users; each held topic costs about 4 KB of heap.
   */
  record Idle(Duration followed, Duration unfollowed) {
    static Idle of(Config config) {
      return new Idle(config.getDuration("bot.webapp.topic-idle"),
          config.getDuration("bot.webapp.unfollowed-topic-idle"));
    }

    /** How often idle topics are looked for. */
    Duration sweep() {
      return unfollowed.compareTo(followed) < 0 ? unfollowed : followed;
    }
  }

  /**
   * One event for a user's web clients: SSE {@code type}, JSON {@code data}; {@code id} as
   * published ({@code echo}: the nonce of a subscription handshake, see {@link #echo}).
   */
  public record Event(long userId, String id, String type, String data)
      implements JsonSerializable {}

  /** The type of the handshake echo; never shown to clients. */
  public static final String ECHO = "echo";

  private final ActorRef<Publish> registry;
  private final String node =
      Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
  private final AtomicLong seq = new AtomicLong();

  private WebEvents(ActorSystem<?> system) {
    registry = system.systemActorOf(registry(node, Idle.of(system.settings().config())),
        "webapp-events", Props.empty());
  }

  public static WebEvents get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The topic a user's events go through. */
  public static Behavior<Topic.Command<Event>> topic(long userId) {
    return Topic.create(Event.class, "webapp-events-" + userId);
  }

  /**
   * Publishes an event of {@code type} to the user's web clients, wherever they are served; {@code
   * data} is called (on the registry, once) only if the event goes to a subscriber, so it must
   * capture nothing that changes.
   */
  public void publish(long userId, String type, Supplier<ObjectNode> data) {
    registry.tell(new Publish(userId, null, seq.incrementAndGet(), type,
        () -> data.get().toString()));
  }

  /** As {@link #publish(long, String, Supplier)}, with the data as JSON text. */
  public void publish(long userId, String type, String json) {
    registry.tell(new Publish(userId, null, seq.incrementAndGet(), type, () -> json));
  }

  /** Sends a subscription handshake's nonce through the user's topic (the user actor does). */
  public void echo(long userId, String nonce) {
    registry.tell(new Publish(userId, nonce, 0, ECHO, () -> "{}"));
  }

  /** A {@code progress} event of a running job. */
  public void progress(long userId, String jobId, int percent, String text) {
    publish(userId, "progress", () ->
        Json.MAPPER.createObjectNode().put("jobId", jobId).put("percent", percent)
            .put("text", text));
  }

  /**
   * An {@code output} event, as the output leaves for Telegram: its index and kind, and its text,
   * or for a file its name and caption (never its content).
   */
  public void output(long userId, String jobId, long index, String kind, String text,
      String fileName, String caption) {
    publish(userId, "output", () -> {
      ObjectNode data = Json.MAPPER.createObjectNode().put("jobId", jobId).put("index", index)
          .put("kind", kind.toLowerCase(java.util.Locale.ROOT));
      if (!"file".equalsIgnoreCase(kind)) {
        data.put("text", text);
      } else {
        data.put("fileName", fileName).put("caption", caption);
      }
      return data;
    });
  }

  /**
   * A {@code preview} event: the text of output {@code index} so far, while it is being written
   * (as often as the chat's preview: at most once per preview interval).
   */
  public void preview(long userId, String jobId, long index, String text) {
    publish(userId, "preview", () ->
        Json.MAPPER.createObjectNode().put("jobId", jobId).put("index", index).put("text", text));
  }

  /**
   * An event to publish: {@code nonce} is an echo's id (otherwise the id is made from {@code seq}),
   * {@code data} makes the JSON, for an event that goes out.
   */
  private record Publish(long userId, String nonce, long seq, String type, Supplier<String> data) {
    Event event(String node) {
      return new Event(userId, nonce != null ? nonce : node + "-" + seq, type, data.get());
    }
  }

  private record Stats(long userId, int instances) {}

  private record AskStats(long userId) {}

  private enum Sweep {
    INSTANCE
  }

  /**
   * A user's publishing topic. A new topic learns where the subscribers are from the receptionist
   * a moment after it starts, and drops what is published before: so what a new topic (the user's
   * actor just moved here) is given waits until it knows of a subscriber, at most {@link #LEARN}.
   * Afterwards events go out only while some node subscribes (known from the topic's statistics,
   * at most {@link #STALE} old, or from a handshake echo just sent), so nothing is dropped into
   * dead letters for users nobody follows.
   */
  private static final class UserTopic {
    final ActorRef<Topic.Command<Event>> ref;
    final long spawnedAt = System.nanoTime();
    final List<Publish> pending = new ArrayList<>();
    int instances = -1;
    long statsAt;
    long echoedAt;
    long lastUsed;
    boolean asking;

    UserTopic(ActorRef<Topic.Command<Event>> ref) {
      this.ref = ref;
    }
  }

  private static final Duration LEARN = Duration.ofSeconds(2);
  private static final Duration STALE = Duration.ofSeconds(1);

  private static Behavior<Publish> registry(String node, Idle idle) {
    return Behaviors.<Object>setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Sweep.INSTANCE, idle.sweep());
      Map<Long, UserTopic> topics = new HashMap<>();
      Consumer<Long> askStats = user -> {
        UserTopic t = topics.get(user);
        if (t == null || t.asking) {
          return;
        }
        t.asking = true;
        ctx.ask(Topic.TopicStats.class, t.ref, STALE, Topic::getTopicStats,
            (stats, error) -> new Stats(user, stats == null ? -1 : stats.topicInstanceCount()));
      };
      return Behaviors.receive(Object.class)
          .onMessage(Publish.class, p -> {
            long now = System.nanoTime();
            UserTopic t = topics.computeIfAbsent(p.userId(),
                user -> new UserTopic(ctx.spawnAnonymous(topic(user))));
            t.lastUsed = now;
            if (ECHO.equals(p.type())) {
              t.echoedAt = now;
            }
            if (t.instances < 0) {
              t.pending.add(p);
              askStats.accept(p.userId());
              return Behaviors.same();
            }
            if (t.instances > 0 || ECHO.equals(p.type())
                || now - t.echoedAt < LEARN.toNanos()) {
              t.ref.tell(Topic.publish(p.event(node)));
            }
            if (now - t.statsAt > STALE.toNanos()) {
              askStats.accept(p.userId());
            }
            return Behaviors.same();
          })
          .onMessage(Stats.class, st -> {
            UserTopic t = topics.get(st.userId());
            if (t == null) {
              return Behaviors.same();
            }
            long now = System.nanoTime();
            t.asking = false;
            t.statsAt = now;
            if (t.instances >= 0) {
              t.instances = Math.max(0, st.instances());
            } else if (st.instances() > 0 || now - t.spawnedAt > LEARN.toNanos()) {
              t.instances = Math.max(0, st.instances());
              int unsent = 0;
              for (Publish p : t.pending) {
                if (t.instances > 0 || ECHO.equals(p.type())) {
                  t.ref.tell(Topic.publish(p.event(node)));
                } else {
                  unsent++;
                }
              }
              t.pending.clear();
              if (unsent > 0) {
                ctx.getLog().debug("user {}: no web client follows; {} events not sent",
                    st.userId(), unsent);
              }
            } else {
              timers.startSingleTimer(new AskStats(st.userId()), Duration.ofMillis(50));
            }
            return Behaviors.same();
          })
          .onMessage(AskStats.class, a -> {
            askStats.accept(a.userId());
            return Behaviors.same();
          })
          .onMessageEquals(Sweep.INSTANCE, () -> {
            long now = System.nanoTime();
            int before = topics.size();
            topics.values().removeIf(t -> {
              Duration after = t.instances > 0 ? idle.followed() : idle.unfollowed();
              boolean stop = !t.asking && t.pending.isEmpty()
                  && now - t.lastUsed > after.toNanos();
              if (stop) {
                ctx.stop(t.ref);
              }
              return stop;
            });
            if (topics.size() < before) {
              ctx.getLog().debug("stopped {} idle topics, {} kept", before - topics.size(),
                  topics.size());
            }
            return Behaviors.same();
          })
          .build();
    })).narrow();
  }
}
