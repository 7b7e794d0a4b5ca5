package io.botengine;

import akka.http.javadsl.marshallers.jackson.Jackson;
import akka.http.javadsl.marshalling.Marshaller;
import akka.http.javadsl.model.RequestEntity;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.Map;
import java.util.function.Function;

/**
 * The engine's JSON: one configured mapper for everything it reads and writes (HTTP routes, Runner
 * frames, Telegram updates, the emulators), and the Akka HTTP marshalling and request-body
 * directive the routes share.
 */
public final class Json {
  /**
   * snake_case property names, ISO-8601 instants, unknown properties ignored. Explicit names
   * ({@code @JsonProperty}, as on telegrambots' types) are kept as they are.
   */
  public static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .build();

  private static final Marshaller<Object, RequestEntity> MARSHALLER = Jackson.marshaller(MAPPER);
  private static final Unmarshaller<ByteString, JsonNode> TREE =
      Jackson.byteStringUnmarshaller(MAPPER, JsonNode.class);

  private Json() {}

  /** Completes with {@code value} as {@code application/json}. */
  public static Route complete(StatusCode status, Object value) {
    return Directives.complete(status, value, MARSHALLER);
  }

  /** Completes with {@code {"error": reason}}. */
  public static Route error(StatusCode status, String reason) {
    return complete(status, Map.of("error", reason));
  }

  /**
   * The request body as a JSON object, whatever its content type says; 400 with a reason when the
   * body is not JSON or not an object.
   */
  public static Route object(Function<JsonNode, Route> inner) {
    return Directives.extractMaterializer(
        mat ->
            Directives.entity(
                Unmarshaller.entityToByteString(),
                bytes ->
                    Directives.onComplete(
                        TREE.unmarshal(bytes, mat),
                        parsed -> {
                          if (parsed.isFailure()) {
                            return error(StatusCodes.BAD_REQUEST, "body must be JSON");
                          }
                          JsonNode node = parsed.get();
                          if (node == null || !node.isObject()) {
                            return error(StatusCodes.BAD_REQUEST, "body must be a JSON object");
                          }
                          return inner.apply(node);
                        })));
  }
}
