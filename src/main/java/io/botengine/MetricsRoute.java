package io.botengine;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code GET /metrics}: this node's {@link Metrics} in Prometheus text format; with {@code
 * METRICS_TOKEN} set, only for {@code Authorization: Bearer <token>} (401 otherwise).
 */
final class MetricsRoute extends AllDirectives {
  private final Metrics metrics;
  private final byte[] expected;

  MetricsRoute(Metrics metrics, String token) {
    this.metrics = metrics;
    this.expected = token.isEmpty() ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
  }

  Route route() {
    return path("metrics", () -> get(() -> optionalHeaderValueByName("Authorization", given -> {
      if (expected != null && (given.isEmpty()
          || !MessageDigest.isEqual(expected, given.get().getBytes(StandardCharsets.UTF_8)))) {
        return complete(StatusCodes.UNAUTHORIZED, "missing or wrong bearer token");
      }
      return complete(HttpResponse.create()
          .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape())));
    })));
  }
}
