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
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a user's chat events for web clients are published (an Akka extension per node): one
 * distributed pub-sub {@link Topic} per user, {@code webapp-events-<user id>}, so whichever node
 * serves the user's web client hears what happens on whichever node hosts the user's actor. The
 * code where a thing happens publishes it with one call here; nothing is kept on this side.
 *
 * <p>Each event gets an id unique in the cluster when it is published ({@code <node>-<n>}, the node
 * part random per start), so every serving node that heard it knows it by the same id. The topic
 * actors of this node live under one registry actor, which stops a user's topic after {@link
 * #IDLE} without a publication.
 */
public final class WebEvents implements Extension {
  private static final ExtensionId<WebEvents> ID =
      new ExtensionId<>() {
        @Override
        public WebEvents createExtension(ActorSystem<?> system) {
          return new WebEvents(system);
        }
      };

  /** A publishing topic unused this long is stopped (it is made again on the next event). */
  static final Duration IDLE = Duration.ofMinutes(10);

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
    registry = system.systemActorOf(registry(), "webapp-events", Props.empty());
  }

  public static WebEvents get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The topic a user's events go through. */
  public static Behavior<Topic.Command<Event>> topic(long userId) {
    return Topic.create(Event.class, "webapp-events-" + userId);
  }

  /** Publishes an event of {@code type} to the user's web clients, wherever they are served. */
  public void publish(long userId, String type, ObjectNode data) {
    registry.tell(new Publish(new Event(userId, node + "-" + seq.incrementAndGet(), type,
        data.toString())));
  }

  /** Sends a subscription handshake's nonce through the user's topic (the user actor does). */
  public void echo(long userId, String nonce) {
    registry.tell(new Publish(new Event(userId, nonce, ECHO, "{}")));
  }

  /** A {@code progress} event of a running job. */
  public void progress(long userId, String jobId, int percent, String text) {
    publish(userId, "progress",
        Json.MAPPER.createObjectNode().put("jobId", jobId).put("percent", percent)
            .put("text", text));
  }

  /**
   * An {@code output} event, as the output leaves for Telegram: its index and kind, and its text,
   * or for a file its name and caption (never its content).
   */
  public void output(long userId, String jobId, long index, String kind, String text,
      String fileName, String caption) {
    ObjectNode data = Json.MAPPER.createObjectNode().put("jobId", jobId).put("index", index)
        .put("kind", kind.toLowerCase(java.util.Locale.ROOT));
    if (!"file".equalsIgnoreCase(kind)) {
      data.put("text", text);
    } else {
      data.put("fileName", fileName).put("caption", caption);
    }
    publish(userId, "output", data);
  }

  private record Publish(Event event) {}

  private enum Sweep {
    INSTANCE
  }

  private record Used(ActorRef<Topic.Command<Event>> topic, long lastUsed) {}

  private static Behavior<Publish> registry() {
    return Behaviors.<Object>setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Sweep.INSTANCE, IDLE);
      Map<Long, Used> topics = new HashMap<>();
      return Behaviors.receive(Object.class)
          .onMessage(Publish.class, p -> {
            long user = p.event().userId();
            Used used = topics.get(user);
            ActorRef<Topic.Command<Event>> topic = used != null ? used.topic()
                : ctx.spawnAnonymous(topic(user));
            topics.put(user, new Used(topic, System.nanoTime()));
            topic.tell(Topic.publish(p.event()));
            return Behaviors.same();
          })
          .onMessageEquals(Sweep.INSTANCE, () -> {
            long now = System.nanoTime();
            topics.values().removeIf(u -> {
              boolean idle = now - u.lastUsed() > IDLE.toNanos();
              if (idle) {
                ctx.stop(u.topic());
              }
              return idle;
            });
            return Behaviors.same();
          })
          .build();
    })).narrow();
  }
}
