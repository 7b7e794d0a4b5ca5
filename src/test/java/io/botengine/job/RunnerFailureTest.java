package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** Each Runner failure is told apart by its cause, whatever call it came from. */
class RunnerFailureTest {
  @Test
  void namesTheCauseOfEachKindOfFailure() {
    assertEquals(RunnerFailure.CONNECTION_REFUSED, RunnerFailure.of(new RunnerException.UploadFailed(
        "connection failed: StreamTcpException: Tcp command [Connect(127.0.0.1:1,None,List(),"
            + "Some(10 seconds),true)] failed because of java.net.ConnectException: Connection refused")));
    assertEquals(RunnerFailure.AUTH_REFUSED,
        RunnerFailure.of(new RunnerException.UploadFailed("HTTP 401")));
    assertEquals(RunnerFailure.AUTH_REFUSED, RunnerFailure.ofReason("HTTP 403"));
    assertEquals(RunnerFailure.TASK_NOT_FOUND, RunnerFailure.of(new CompletionException(
        new RunnerException.RequestFailed("status of task t-1: HTTP 404"))));
    assertEquals(RunnerFailure.TIMEOUT,
        RunnerFailure.of(new RunnerException.UploadFailed("no answer within PT30S")));
    assertEquals(RunnerFailure.TIMEOUT,
        RunnerFailure.of(new RunnerException.StreamIdle("t-1", "no event for 300s")));
    assertEquals(RunnerFailure.TIMEOUT, RunnerFailure.of(null));
    assertEquals(RunnerFailure.SERVER_ERROR, RunnerFailure.ofReason("HTTP 502"));
    assertEquals(RunnerFailure.OTHER,
        RunnerFailure.of(new RunnerException.UploadFailed("answer without task_id")));
  }

  @Test
  void aLabelNamesItsCauseAndNothingElseDoes() {
    for (RunnerFailure f : RunnerFailure.values()) {
      assertEquals(f, RunnerFailure.named(f.label()).orElseThrow());
    }
    assertEquals(java.util.Optional.empty(), RunnerFailure.named("Ошибка обработки файла"));
    assertEquals(java.util.Optional.empty(), RunnerFailure.named(null));
  }
}
