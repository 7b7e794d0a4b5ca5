package io.botengine.webapp;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.receptionist.Receptionist;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.stream.BoundedSourceQueue;
import io.botengine.Json;
import io.botengine.WebEvents;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * One user's events as this node hears them, for the web clients this node serves: registered
 * with the receptionist as the user's follower on this node ({@link WebEvents#followers}, through
 * a child that is only an address the user's node sends to), it keeps the last {@code
 * events-kept} events (what a client reconnecting with {@code Last-Event-ID} resumes from) and
 * hands each to the live connections. The buffer lives here, on the serving node, not with the
 * user's actor: it survives the actor moving to another node, and needs no write per event.
 *
 * <p>A connection becomes live after a handshake: the feed asks the user's actor to publish a
 * nonce to the user's followers (asked again every {@code handshake-retry}) and sends {@code ack}
 * once it hears it back, so the path from wherever the actor lives to here is known to work. A
 * connection whose queue is full is sent {@code reset} and closed. Started by {@link EventHub} on a
 * first connection; after {@code linger} without connections it asks the hub to stop it.
 */
final class UserFeed {
  interface Command {}

  /** A new connection (from {@link EventHub}). */
  record Connect(long connection, Optional<String> lastEventId, Queue queue) implements Command {}

  /** The connection's stream ended (the client went away, or it was closed here). */
  record Disconnected(long connection) implements Command {}

  private record Heard(WebEvents.Event event) implements Command {}

  private record AskEcho(long connection) implements Command {}

  private record HandshakeTimedOut(long connection) implements Command {}

  private enum Linger implements Command {
    INSTANCE
  }

  /** A connection's bounded queue, and its capacity. */
  record Queue(BoundedSourceQueue<ServerSentEvent> queue, int capacity) {}

  private static final class Connection {
    final Optional<String> lastEventId;
    final Queue queue;
    String nonce;

    Connection(Optional<String> lastEventId, Queue queue, String nonce) {
      this.lastEventId = lastEventId;
      this.queue = queue;
      this.nonce = nonce;
    }
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final long userId;
  private final WebAppSettings settings;
  private final BiConsumer<Long, String> askEcho;
  private final ActorRef<EventHub.Command> hub;
  private final Deque<WebEvents.Event> kept = new ArrayDeque<>();
  private final Map<Long, Connection> connections = new HashMap<>();
  private long connects;

  private UserFeed(ActorContext<Command> ctx, TimerScheduler<Command> timers, long userId,
      WebAppSettings settings, BiConsumer<Long, String> askEcho, ActorRef<EventHub.Command> hub) {
    this.ctx = ctx;
    this.timers = timers;
    this.userId = userId;
    this.settings = settings;
    this.askEcho = askEcho;
    this.hub = hub;
  }

  static Behavior<Command> create(long userId, WebAppSettings settings,
      BiConsumer<Long, String> askEcho, ActorRef<EventHub.Command> hub) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ActorRef<Command> self = ctx.getSelf();
      ActorRef<WebEvents.Event> listener = ctx.spawn(Behaviors.receiveMessage(event -> {
        self.tell(new Heard(event));
        return Behaviors.same();
      }), "events");
      ctx.getSystem().receptionist()
          .tell(Receptionist.register(WebEvents.followers(userId), listener));
      return new UserFeed(ctx, timers, userId, settings, askEcho, hub).behavior();
    }));
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(Connect.class, this::onConnect)
        .onMessage(AskEcho.class, this::onAskEcho)
        .onMessage(Heard.class, this::onHeard)
        .onMessage(HandshakeTimedOut.class, this::onHandshakeTimedOut)
        .onMessage(Disconnected.class, this::onDisconnected)
        .onMessageEquals(Linger.INSTANCE, this::onLinger)
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Command> onConnect(Connect c) {
    connects++;
    timers.cancel(Linger.INSTANCE);
    String nonce = UUID.randomUUID().toString();
    connections.put(c.connection(), new Connection(c.lastEventId(), c.queue(), nonce));
    askEcho.accept(userId, nonce);
    timers.startTimerWithFixedDelay(new AskEcho(c.connection()), settings.handshakeRetry());
    timers.startSingleTimer(new HandshakeTimedOut(c.connection()), settings.handshakeTimeout());
    return Behaviors.same();
  }

  private Behavior<Command> onAskEcho(AskEcho a) {
    Connection c = connections.get(a.connection());
    if (c != null && c.nonce != null) {
      askEcho.accept(userId, c.nonce);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onHeard(Heard h) {
    WebEvents.Event event = h.event();
    if (WebEvents.ECHO.equals(event.type())) {
      connections.entrySet().stream()
          .filter(e -> event.id().equals(e.getValue().nonce))
          .map(Map.Entry::getKey)
          .findFirst()
          .ifPresent(this::goLive);
      return Behaviors.same();
    }
    kept.addLast(event);
    if (kept.size() > settings.eventsKept()) {
      kept.removeFirst();
    }
    for (Map.Entry<Long, Connection> e : new ArrayList<>(connections.entrySet())) {
      if (e.getValue().nonce == null) {
        offer(e.getKey(), e.getValue(), event);
      }
    }
    return Behaviors.same();
  }

  /** The handshake is done: {@code ack}, then what the client missed since its last event. */
  private void goLive(long id) {
    Connection c = connections.get(id);
    c.nonce = null;
    timers.cancel(new AskEcho(id));
    timers.cancel(new HandshakeTimedOut(id));
    if (!send(id, c, ServerSentEvent.create(
        Json.MAPPER.createObjectNode().put("user", userId).toString(), "ack"))) {
      return;
    }
    if (c.lastEventId.isEmpty()) {
      return;
    }
    List<WebEvents.Event> missed = new ArrayList<>();
    boolean found = false;
    for (WebEvents.Event e : kept) {
      if (found) {
        missed.add(e);
      } else if (e.id().equals(c.lastEventId.get())) {
        found = true;
      }
    }
    if (!found) {
      reset(c, "not kept", false);
      return;
    }
    for (WebEvents.Event e : missed) {
      if (!offer(id, c, e)) {
        return;
      }
    }
  }

  private boolean offer(long id, Connection c, WebEvents.Event event) {
    return send(id, c, ServerSentEvent.create(event.data(), event.type(), event.id()));
  }

  /** Sends, or when only the room for a reset is left, resets and closes the connection. */
  private boolean send(long id, Connection c, ServerSentEvent sse) {
    if (c.queue.queue().size() >= c.queue.capacity() - 1) {
      reset(c, "too slow", true);
      connections.remove(id);
      return false;
    }
    c.queue.queue().offer(sse);
    return true;
  }

  private void reset(Connection c, String reason, boolean close) {
    c.queue.queue().offer(ServerSentEvent.create(
        Json.MAPPER.createObjectNode().put("reason", reason).toString(), "reset"));
    if (close) {
      c.queue.queue().complete();
    }
  }

  private Behavior<Command> onHandshakeTimedOut(HandshakeTimedOut t) {
    Connection c = connections.remove(t.connection());
    if (c != null) {
      timers.cancel(new AskEcho(t.connection()));
      ctx.getLog().warn("user {}: web events handshake not answered in {}, connection closed",
          userId, settings.handshakeTimeout());
      c.queue.queue().complete();
    }
    return lingerIfIdle();
  }

  private Behavior<Command> onDisconnected(Disconnected d) {
    connections.remove(d.connection());
    timers.cancel(new AskEcho(d.connection()));
    timers.cancel(new HandshakeTimedOut(d.connection()));
    return lingerIfIdle();
  }

  private Behavior<Command> lingerIfIdle() {
    if (connections.isEmpty() && !timers.isTimerActive(Linger.INSTANCE)) {
      timers.startSingleTimer(Linger.INSTANCE, settings.linger());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onLinger() {
    if (connections.isEmpty()) {
      hub.tell(new EventHub.Idle(userId, connects));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onPostStop() {
    connections.values().forEach(c -> c.queue.queue().complete());
    return Behaviors.same();
  }
}
