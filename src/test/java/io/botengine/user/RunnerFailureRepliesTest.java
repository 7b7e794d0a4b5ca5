package io.botengine.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.botengine.job.JobOutcome;
import io.botengine.job.RunnerFailure;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Seed 004's table: a distinct, friendly text per Runner failure cause, never the cause itself. */
class RunnerFailureRepliesTest {
  private static final Replies RU = Replies.of(UserState.empty(), 1);

  @Test
  void eachCauseHasItsOwnText() {
    List<RunnerFailure> causes = List.of(RunnerFailure.CONNECTION_REFUSED,
        RunnerFailure.AUTH_REFUSED, RunnerFailure.TASK_NOT_FOUND, RunnerFailure.TIMEOUT);
    Set<String> texts = new HashSet<>();
    for (RunnerFailure cause : causes) {
      String upload = RU.ended(JobOutcome.UPLOAD_FAILED, cause.label());
      assertEquals(upload, RU.ended(JobOutcome.TIMED_OUT, cause.label()));
      assertFalse(upload.contains(cause.label()), upload);
      texts.add(upload);
    }
    assertEquals(4, texts.size(), texts.toString());
    assertEquals("❌ Сервис анализа сейчас недоступен. Попробуйте позже — токены не списаны.",
        RU.ended(JobOutcome.UPLOAD_FAILED, "connection_refused"));
  }

  @Test
  void otherFailuresKeepTheirGeneralText() {
    assertEquals("Ошибка загрузки файла", RU.ended(JobOutcome.UPLOAD_FAILED, "server_error"));
    assertEquals("Ошибка загрузки файла", RU.ended(JobOutcome.UPLOAD_FAILED, null));
    assertEquals("Превышено время ожидания. Попробуйте позже.",
        RU.ended(JobOutcome.TIMED_OUT, "other"));
  }
}
