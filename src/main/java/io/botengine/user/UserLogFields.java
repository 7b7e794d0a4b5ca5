package io.botengine.user;

import akka.actor.typed.Behavior;
import io.botengine.LogFields;
import java.util.Map;

/** The log fields of a user actor: its user id always, a task report's job, task and index. */
final class UserLogFields {
  private UserLogFields() {}

  static Behavior<UserEntity.Command> around(String userId, Behavior<UserEntity.Command> user) {
    return LogFields.around(Map.of(LogFields.USER_ID, userId), UserLogFields::of, user);
  }

  private static Map<String, String> of(Object message) {
    if (message instanceof UserEntity.RecordDelivery r) {
      return Map.of(LogFields.JOB_ID, r.jobId(), LogFields.OUTPUT_INDEX, Long.toString(r.index()));
    } else if (message instanceof UserEntity.TaskAccepted a && a.taskId() != null) {
      return Map.of(LogFields.JOB_ID, a.jobId(), LogFields.TASK_ID, a.taskId());
    } else if (message instanceof UserEntity.TaskSucceeded s) {
      return Map.of(LogFields.JOB_ID, s.jobId());
    } else if (message instanceof UserEntity.TaskFailed f) {
      return Map.of(LogFields.JOB_ID, f.jobId());
    }
    return Map.of();
  }
}
