package io.botengine;

import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /health/alive}: the process answers. {@code GET /health/ready}: this node can host
 * users, in JSON: ready when it is an Up member of the cluster and its journal answers; 503 with
 * the reasons otherwise.
 */
final class HealthRoutes extends AllDirectives {
  /** The answer of {@code /health/ready}; {@code reasons} is empty when ready. */
  record Readiness(
      boolean ready, String member, String journal, List<String> reasons) {}

  private final ActorSystem<?> system;
  private final JournalProbe journal;

  HealthRoutes(ActorSystem<?> system, JournalProbe journal) {
    this.system = system;
    this.journal = journal;
  }

  Route route() {
    return pathPrefix(
        "health",
        () ->
            concat(
                path("alive", () -> get(() -> complete("alive"))),
                path("ready", () -> get(() -> onSuccess(journal.check(), why -> {
                  MemberStatus status = Cluster.get(system).selfMember().status();
                  List<String> reasons = new ArrayList<>();
                  if (status != MemberStatus.up()) {
                    reasons.add("this node is " + NodeGauges.name(status)
                        + " in the cluster, not up");
                  }
                  why.ifPresent(reasons::add);
                  Readiness r = new Readiness(reasons.isEmpty(), NodeGauges.name(status),
                      why.isEmpty() ? "ok" : "unreachable", reasons);
                  return Json.complete(
                      r.ready() ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, r);
                })))));
  }
}
