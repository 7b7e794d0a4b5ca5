package io.botengine.webapp;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.sse.ServerSentEvent;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.japi.Pair;
import akka.stream.BoundedSourceQueue;
import akka.stream.Materializer;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.botengine.user.UserEntity;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code GET /webapp/api/events}: one user's chat events as SSE, for a Telegram Mini App or any
 * web front end, on every node. The user is the one the Mini App's {@code initData} was signed for
 * ({@code Authorization: tma <initData>}, {@link InitData}); anything else is 401 without a word.
 * Events come from this node's {@link EventHub}; heartbeat comments every {@code heartbeat}.
 */
public final class WebAppRoutes extends AllDirectives {
  private static final String SCHEME = "tma ";
  private static final ContentType EVENT_STREAM =
      ContentTypes.parse("text/event-stream; charset=UTF-8");
  /** A comment line: ignored by SSE clients, enough traffic for proxies. */
  private static final ByteString HEARTBEAT = ByteString.fromString(":\n\n");

  private final ActorSystem<?> system;
  private final WebAppSettings settings;
  private final InitData initData;
  private final ActorRef<EventHub.Command> hub;
  private final AtomicLong connections = new AtomicLong();

  public WebAppRoutes(ActorSystem<?> system, WebAppSettings settings, String botToken,
      ActorRef<EventHub.Command> hub) {
    this.system = system;
    this.settings = settings;
    this.initData = new InitData(botToken, settings.maxAuthAge(), Clock.systemUTC());
    this.hub = hub;
  }

  /** Starts this node's hub; handshakes go to the user's actor through sharding. */
  public static ActorRef<EventHub.Command> startHub(ActorSystem<?> system,
      WebAppSettings settings) {
    ClusterSharding sharding = ClusterSharding.get(system);
    return system.systemActorOf(
        EventHub.create(settings, (user, nonce) -> sharding
            .entityRefFor(UserEntity.ENTITY_KEY, Long.toString(user))
            .tell(new UserEntity.Echo(nonce))),
        "webapp-event-hub", akka.actor.typed.Props.empty());
  }

  public Route route() {
    return pathPrefix("webapp", () -> pathPrefix("api", () -> path("events", () -> get(() ->
        optionalHeaderValueByName("Authorization", auth -> {
          Optional<Long> user = auth.filter(a -> a.startsWith(SCHEME))
              .flatMap(a -> initData.userId(a.substring(SCHEME.length()).trim()));
          if (user.isEmpty()) {
            return complete(StatusCodes.UNAUTHORIZED);
          }
          return optionalHeaderValueByName("Last-Event-ID", last -> events(user.get(), last));
        })))));
  }

  private Route events(long user, Optional<String> lastEventId) {
    long connection = connections.incrementAndGet();
    int capacity = settings.connectionBuffer();
    Pair<BoundedSourceQueue<ServerSentEvent>, Source<ServerSentEvent, NotUsed>> live =
        Source.<ServerSentEvent>queue(capacity).preMaterialize(Materializer.matFromSystem(system));
    hub.tell(new EventHub.Connect(user, new UserFeed.Connect(connection,
        lastEventId.filter(id -> !id.isBlank()), new UserFeed.Queue(live.first(), capacity))));
    Source<ByteString, NotUsed> events = live.second()
        .watchTermination((notUsed, done) -> {
          done.whenComplete((d, error) -> hub.tell(new EventHub.Disconnected(user, connection)));
          return notUsed;
        })
        .map(WebAppRoutes::encode)
        .keepAlive(settings.heartbeat(), () -> HEARTBEAT);
    return complete(HttpResponse.create()
        .withHeaders(List.of(RawHeader.create("Cache-Control", "no-cache"),
            RawHeader.create("X-Accel-Buffering", "no")))
        .withEntity(HttpEntities.create(EVENT_STREAM, events)));
  }

  /** An event as SSE text: {@code event:}, {@code id:} if it has one, one {@code data:} a line. */
  static ByteString encode(ServerSentEvent e) {
    StringBuilder b = new StringBuilder();
    e.getEventType().ifPresent(t -> b.append("event: ").append(t).append('\n'));
    e.getId().ifPresent(id -> b.append("id: ").append(id).append('\n'));
    for (String line : e.getData().split("\n", -1)) {
      b.append("data: ").append(line).append('\n');
    }
    return ByteString.fromString(b.append('\n').toString());
  }
}
