package io.botengine.user;

import io.botengine.Json;
import io.botengine.WebEvents;

/**
 * What a user's persisted job events tell the user's web clients ({@link WebEvents}); the JSON is
 * made only for a user some web client follows.
 */
final class WebJobEvents {
  private WebJobEvents() {}

  static void publish(WebEvents web, long userId, UserEntity.Event event) {
    if (event instanceof UserEntity.JobStarted s) {
      web.publish(userId, "job", () -> Json.MAPPER.createObjectNode().put("jobId", s.jobId())
          .put("state", "started").put("fileName", s.fileName()).put("cost", s.cost()));
    } else if (event instanceof UserEntity.JobAccepted a) {
      web.publish(userId, "job", () -> Json.MAPPER.createObjectNode().put("jobId", a.jobId())
          .put("state", "accepted").put("taskId", a.taskId())
          .put("queuePosition", a.queuePosition()));
    } else if (event instanceof UserEntity.JobSucceeded s) {
      web.publish(userId, "end", () -> Json.MAPPER.createObjectNode().put("jobId", s.jobId())
          .put("outcome", "SUCCEEDED").put("tokensCharged", s.charged()));
    } else if (event instanceof UserEntity.JobEnded e) {
      web.publish(userId, "end", () -> Json.MAPPER.createObjectNode().put("jobId", e.jobId())
          .put("outcome", e.outcome().name()).put("tokensCharged", 0));
    }
  }
}
