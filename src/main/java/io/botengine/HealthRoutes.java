package io.botengine;

import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;

/**
 * {@code GET /health/alive}: the process answers. {@code GET /health/ready}: this node is an Up
 * member of the cluster and can host users.
 */
final class HealthRoutes extends AllDirectives {
  private final ActorSystem<?> system;

  HealthRoutes(ActorSystem<?> system) {
    this.system = system;
  }

  Route route() {
    return pathPrefix(
        "health",
        () ->
            concat(
                path("alive", () -> get(() -> complete("alive"))),
                path(
                    "ready",
                    () ->
                        get(
                            () -> {
                              MemberStatus status = Cluster.get(system).selfMember().status();
                              return status == MemberStatus.up()
                                  ? complete("ready")
                                  : complete(StatusCodes.SERVICE_UNAVAILABLE,
                                      "not ready: cluster member is " + status);
                            }))));
  }
}
