package io.botengine.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SharedCommandHandlerTest {
  private record Entity(String name, List<String> calls) {}

  private sealed interface Command permits Ping, Pong {}

  private record Ping() implements Command {}

  private record Pong() implements Command {}

  private static final SharedCommandHandler<Entity, Command, Object, String> HANDLER =
      handler();

  private static SharedCommandHandler<Entity, Command, Object, String> handler() {
    SharedCommandHandler<Entity, Command, Object, String> b = new SharedCommandHandler<>();
    b.forState("busy"::equals).onCommand(Ping.class, (e, s, c) -> called(e, "busy ping"));
    b.forAnyState()
        .onCommand(Ping.class, (e, s, c) -> called(e, "any ping in " + s))
        .onCommand(Ping.class, (e, s, c) -> called(e, "never"));
    return b;
  }

  private static <E, S> akka.persistence.typed.javadsl.ReplyEffect<E, S> called(
      Entity entity, String what) {
    entity.calls().add(entity.name() + ": " + what);
    return null;
  }

  @Test
  void triesTheCasesInTheOrderDeclaredForTheEntityItIsBoundTo() {
    Entity a = new Entity("a", new ArrayList<>());
    Entity b = new Entity("b", new ArrayList<>());

    HANDLER.of(a).apply("busy", new Ping());
    HANDLER.of(b).apply("idle", new Ping());
    HANDLER.of(a).apply("idle", new Ping());

    assertEquals(List.of("a: busy ping", "a: any ping in idle"), a.calls());
    assertEquals(List.of("b: any ping in idle"), b.calls());
  }

  @Test
  void refusesACommandNoCaseHandles() {
    Entity a = new Entity("a", new ArrayList<>());
    assertThrows(IllegalArgumentException.class, () -> HANDLER.of(a).apply("busy", new Pong()));
  }
}
