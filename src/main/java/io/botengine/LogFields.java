package io.botengine;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import java.util.Map;
import java.util.function.Function;

/**
 * Log fields (SLF4J MDC) around an actor's handling: {@code user_id}, {@code job_id}, {@code
 * task_id}, {@code output_index} where they apply. The text format does not print them (its lines
 * say the same in words); the JSON format writes each as a field. Every message the actor gets is
 * covered, its internal ones (journal answers, stream elements) included, so lines logged in a
 * persist callback carry the fields too.
 */
public final class LogFields {
  public static final String USER_ID = "user_id";
  public static final String JOB_ID = "job_id";
  public static final String TASK_ID = "task_id";
  public static final String OUTPUT_INDEX = "output_index";

  private LogFields() {}

  /** {@code behavior} with {@code fields} on every message and {@code perMessage}'s on each. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static <T> Behavior<T> around(
      Map<String, String> fields, Function<Object, Map<String, String>> perMessage,
      Behavior<T> behavior) {
    Behavior<Object> any = (Behavior) behavior;
    return (Behavior) Behaviors.withMdc(Object.class, fields, perMessage::apply, any);
  }
}
