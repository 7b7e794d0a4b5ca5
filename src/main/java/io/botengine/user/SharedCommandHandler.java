package io.botengine.user;

import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.ReplyEffect;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A command handler built once for every entity of a class, as Akka's {@code
 * CommandHandlerWithReplyBuilder} is built per entity (its cases hold the entity's method
 * references: about 4 KB for each of thousands of live users). Cases are declared state by state
 * with unbound method references ({@code UserEntity::onCredit}) and tried in the order they were
 * declared, the first whose state and command class match handling the command, as with Akka's
 * builder; {@link #of} binds the handler to one entity. Not thread-safe while being declared; built
 * in a static initializer and only read afterwards.
 *
 * @param <T> the entity
 * @param <C> its commands
 * @param <E> its events
 * @param <S> its state
 */
final class SharedCommandHandler<T, C, E, S> {

  /** Handles a command of type {@code X} for {@code entity} in {@code state}. */
  @FunctionalInterface
  interface Handler<T, S, X, E> {
    ReplyEffect<E, S> apply(T entity, S state, X command);
  }

  private record Case<T, S, E>(
      Predicate<S> state, Class<?> command, Handler<T, S, Object, E> handler) {}

  private final List<Case<T, S, E>> cases = new ArrayList<>();

  /** The cases for the states {@code state} accepts. */
  ForState forState(Predicate<S> state) {
    return new ForState(state);
  }

  /** The cases for any state, tried after those declared before them. */
  ForState forAnyState() {
    return new ForState(s -> true);
  }

  /** This handler, for one entity. */
  CommandHandlerWithReply<C, E, S> of(T entity) {
    return (state, command) -> handle(entity, state, command);
  }

  private ReplyEffect<E, S> handle(T entity, S state, C command) {
    for (Case<T, S, E> c : cases) {
      if (c.command().isInstance(command) && c.state().test(state)) {
        return c.handler().apply(entity, state, command);
      }
    }
    throw new IllegalArgumentException(
        "no handler for " + command.getClass().getName() + " in this state");
  }

  /** Declares the cases of one state predicate. */
  final class ForState {
    private final Predicate<S> state;

    private ForState(Predicate<S> state) {
      this.state = state;
    }

    @SuppressWarnings("unchecked")
    <X extends C> ForState onCommand(Class<X> type, Handler<T, S, X, E> handler) {
      cases.add(new Case<>(state, type, (Handler<T, S, Object, E>) (Handler<T, S, ?, E>) handler));
      return this;
    }
  }
}
