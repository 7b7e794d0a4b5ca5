package io.botengine.webapp;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * This node's web event connections, one {@link UserFeed} child per user with a client here (or
 * one that left less than {@code linger} ago). Lives as long as the node; a feed is stopped when it
 * reports itself idle and no connection came in since.
 */
public final class EventHub {
  /** What the hub is told. */
  public interface Command {}

  /** A client connected for a user's events. */
  record Connect(long userId, UserFeed.Connect connect) implements Command {}

  /** The client's stream ended. */
  record Disconnected(long userId, long connection) implements Command {}

  /** A feed had no connection for {@code linger}, after {@code connects} connections. */
  record Idle(long userId, long connects) implements Command {}

  private record Feed(ActorRef<UserFeed.Command> ref, long connects) {}

  private EventHub() {}

  /** {@code askEcho(user, nonce)} makes the user's actor publish the nonce on the user's topic. */
  public static Behavior<Command> create(WebAppSettings settings,
      BiConsumer<Long, String> askEcho) {
    return Behaviors.setup(ctx -> {
      Map<Long, Feed> feeds = new HashMap<>();
      long[] made = {0};
      return Behaviors.receive(Command.class)
          .onMessage(Connect.class, c -> {
            Feed feed = feeds.get(c.userId());
            if (feed == null) {
              feed = new Feed(
                  ctx.spawn(UserFeed.create(c.userId(), settings, askEcho, ctx.getSelf()),
                      "user-" + c.userId() + "-" + (++made[0])),
                  0);
            }
            feeds.put(c.userId(), new Feed(feed.ref(), feed.connects() + 1));
            feed.ref().tell(c.connect());
            return Behaviors.same();
          })
          .onMessage(Disconnected.class, d -> {
            Feed feed = feeds.get(d.userId());
            if (feed != null) {
              feed.ref().tell(new UserFeed.Disconnected(d.connection()));
            }
            return Behaviors.same();
          })
          .onMessage(Idle.class, i -> {
            Feed feed = feeds.get(i.userId());
            if (feed != null && feed.connects() == i.connects()) {
              ctx.stop(feed.ref());
              feeds.remove(i.userId());
            }
            return Behaviors.same();
          })
          .build();
    });
  }
}
