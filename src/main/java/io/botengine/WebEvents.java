package io.botengine;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Where a user's chat events for web clients are published (an Akka extension per node), so
 * whichever node serves the user's web client hears what happens on whichever node hosts the
 * user's actor. A serving node registers its feed of the user's events with the receptionist under
 * {@link #followers} ({@code webapp-events-<user id>}); the code where a thing happens publishes it
 * with one call here, and this node's registry actor sends it to every feed registered for the
 * user, as the receptionist last listed them. Nothing is kept on this side but that listing.
 *
 * <p>Each event gets an id unique in the cluster when it is published ({@code <node>-<n>}, the node
 * part random per start), so every serving node that heard it knows it by the same id. The
 * registry forgets a user's listing after {@code bot.webapp.topic-idle} without a publication, or
 * after {@code bot.webapp.unfollowed-topic-idle} when no web client followed the user when last
 * asked. Events of a user no node follows are not sent anywhere, and their JSON is never made: the
 * publishing calls hand in how to make it, and the registry makes it only for an event that goes
 * out.
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
   * How long a user's listing of followers is kept without a publication (the receptionist is asked
   * again on the next event): {@code followed} while some web client follows the user, {@code
   * unfollowed} otherwise, which is most users.
   */
  record Idle(Duration followed, Duration unfollowed) {
    static Idle of(Config config) {
      return new Idle(config.getDuration("bot.webapp.topic-idle"),
          config.getDuration("bot.webapp.unfollowed-topic-idle"));
    }

    /** How often idle listings are looked for. */
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

  /** Sends a subscription handshake's nonce to the user's followers (the user actor does). */
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

  /** The receptionist's answer to a {@link Receptionist#find} of a user's followers. */
  private record Listed(Receptionist.Listing listing) {}

  private record Retry(long userId) {}

  private enum Sweep {
    INSTANCE
  }

  /**
   * What this node knows of a user's followers: the feeds registered under {@link #followers}
   * when the receptionist was last asked (at most {@link #STALE} ago while events come). No actor:
   * the receptionist already holds the registrations of the whole cluster, and answers a find
   * from this node's copy. Events go straight to the listed feeds, and only while there are some,
   * so nothing is dropped into dead letters for users nobody follows. What comes before the first
   * answer waits for it; a handshake echo that finds no feed yet (its feed's registration is still
   * on its way from the serving node) waits too, and what is published behind it, asked again
   * every {@link #RETRY}, at most {@link #LEARN}; so does a node just started ({@link #YOUNG}).
   */
  private static final class Followers {
    final long firstAt = System.nanoTime();
    final List<Publish> pending = new ArrayList<>();
    Set<ActorRef<Event>> feeds = Set.of();
    boolean listed;
    long listedAt;
    long askedAt;
    boolean waiting;

    /** A find is out: asked after the last answer. */
    boolean asking() {
      return askedAt > listedAt;
    }
    long echoedAt;
    long lastUsed;
  }

  private static final Duration LEARN = Duration.ofSeconds(2);
  private static final Duration STALE = Duration.ofSeconds(1);
  private static final Duration RETRY = Duration.ofMillis(50);
  /**
   * A node up for less than this may not have heard of every registration yet (the receptionist's
   * replica fills by gossip after the join): what it publishes for a user it knows no follower of
   * waits up to {@link #LEARN} too, so the first events after a hand-over to a new node are not
   * lost.
   */
  private static final Duration YOUNG = Duration.ofSeconds(20);
  private static final String KEY_PREFIX = "webapp-events-";

  /**
   * The receptionist key under which a node that serves a user's web clients registers its feed
   * of the user's events ({@code UserFeed}); whichever node hosts the user's actor sends to it.
   */
  public static ServiceKey<Event> followers(long userId) {
    return ServiceKey.create(Event.class, KEY_PREFIX + userId);
  }

  private static Behavior<Publish> registry(String node, Idle idle) {
    return Behaviors.<Object>setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Sweep.INSTANCE, idle.sweep());
      Map<Long, Followers> users = new HashMap<>();
      ActorRef<Receptionist.Listing> listings =
          ctx.messageAdapter(Receptionist.Listing.class, Listed::new);
      BiConsumer<Long, Followers> ask = (user, f) -> {
        long now = System.nanoTime();
        if (f.asking() && now - f.askedAt < STALE.toNanos()) {
          return;
        }
        f.askedAt = now;
        ctx.getSystem().receptionist().tell(Receptionist.find(followers(user), listings));
      };
      return Behaviors.receive(Object.class)
          .onMessage(Publish.class, p -> {
            long now = System.nanoTime();
            Followers f = users.computeIfAbsent(p.userId(), user -> new Followers());
            f.lastUsed = now;
            if (ECHO.equals(p.type())) {
              f.echoedAt = now;
            }
            if (!f.listed || !f.pending.isEmpty() || f.feeds.isEmpty() && ECHO.equals(p.type())) {
              f.pending.add(p);
              ask.accept(p.userId(), f);
              return Behaviors.same();
            }
            if (!f.feeds.isEmpty()) {
              send(p.event(node), f.feeds);
            }
            if (now - f.listedAt > STALE.toNanos()) {
              ask.accept(p.userId(), f);
            }
            return Behaviors.same();
          })
          .onMessage(Listed.class, l -> {
            long user = Long.parseLong(l.listing().getKey().id().substring(KEY_PREFIX.length()));
            Followers f = users.get(user);
            if (f == null) {
              return Behaviors.same();
            }
            long now = System.nanoTime();
            f.listed = true;
            f.listedAt = now;
            f.feeds = l.listing().getServiceInstances(followers(user));
            if (f.pending.isEmpty()) {
              return Behaviors.same();
            }
            boolean echoed = now - f.echoedAt < LEARN.toNanos();
            boolean young = ctx.getSystem().uptime() < YOUNG.toSeconds()
                && now - f.firstAt < LEARN.toNanos();
            if (f.feeds.isEmpty() && (echoed || young)) {
              if (!f.waiting) {
                f.waiting = true;
                ctx.getLog().debug("user {}: {} waits for a follower to be listed", user,
                    echoed ? "an echo" : "an event on a node just started");
              }
              timers.startSingleTimer(new Retry(user), RETRY);
              return Behaviors.same();
            }
            f.waiting = false;
            int unsent = 0;
            for (Publish p : f.pending) {
              if (f.feeds.isEmpty()) {
                unsent++;
              } else {
                send(p.event(node), f.feeds);
              }
            }
            f.pending.clear();
            if (unsent > 0) {
              ctx.getLog().debug("user {}: no web client follows; {} events not sent", user,
                  unsent);
            }
            return Behaviors.same();
          })
          .onMessage(Retry.class, r -> {
            Followers f = users.get(r.userId());
            if (f != null) {
              ask.accept(r.userId(), f);
            }
            return Behaviors.same();
          })
          .onMessageEquals(Sweep.INSTANCE, () -> {
            long now = System.nanoTime();
            int before = users.size();
            users.values().removeIf(f -> {
              Duration after = f.feeds.isEmpty() ? idle.unfollowed() : idle.followed();
              return !f.asking() && f.pending.isEmpty() && now - f.lastUsed > after.toNanos();
            });
            if (users.size() < before) {
              ctx.getLog().debug("forgot {} idle users, {} kept", before - users.size(),
                  users.size());
            }
            return Behaviors.same();
          })
          .build();
    })).narrow();
  }

  private static void send(Event event, Set<ActorRef<Event>> feeds) {
    for (ActorRef<Event> feed : feeds) {
      feed.tell(event);
    }
  }
}
