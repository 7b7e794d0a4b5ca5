package io.botengine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.sandbox.RunnerEmulator;
import io.botengine.sandbox.RunnerScenario;
import io.botengine.testing.ClusterHarness;
import io.botengine.testing.LogCapture;
import io.botengine.user.UserEntity;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node crashes while its users' files are being uploaded: the Runner created their tasks, but
 * the node died before it heard their ids. The survivors fetch each file again from Telegram by
 * its file_id and upload it again with the job's Idempotency-Key, so the Runner answers with the
 * task it already runs: every job ends once, on one Runner task, charged once.
 */
@ExtendWith(LogCapture.class)
class ClusterUploadCrashTest {
  private static final int OUTPUTS = 3;
  private static final int VICTIM = 2;
  private ClusterHarness cluster;

  @BeforeEach
  void start() {
    cluster = new ClusterHarness(Map.of()).startNodes(3);
  }

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aJobWhoseUploadWasInFlightWhenItsNodeCrashedResumesOnTheSameRunnerTask() {
    List<Long> candidates = LongStream.range(23_001, 23_013).boxed().toList();
    candidates.forEach(u -> cluster.bot.sendText(u, "/cv", "ru"));
    candidates.forEach(u -> cluster.bot.awaitSent(u, 1, ClusterHarness.WAIT));
    List<Long> users = List.copyOf(cluster.hostedUsers(VICTIM));
    assertFalse(users.isEmpty(), "node " + VICTIM + " hosts none of them: " + cluster.hosting());
    RunnerScenario held = RunnerScenario.manyOutputs(OUTPUTS, Duration.ofMillis(100))
        .withUpload(RunnerScenario.UploadReply.HELD_UNTIL_REPEATED);
    users.forEach(u -> cluster.runner.scenarioFor(u, held));
    users.forEach(u -> cluster.bot.sendDocument(u, "cv.txt", "text/plain",
        ("CV " + u).getBytes(StandardCharsets.UTF_8)));
    cluster.awaitAssert(ClusterHarness.WAIT, () -> users.forEach(u ->
        assertEquals(1, uploads(u).size(), "user " + u + "'s task exists, its answer is held")));

    cluster.crash(VICTIM);

    JobChecks.awaitAllSucceeded(cluster, users, Duration.ofSeconds(40));
    for (long user : users) {
      List<RunnerEmulator.Upload> uploads = uploads(user);
      assertEquals(2, uploads.size(), "uploaded again after the crash: " + uploads);
      assertEquals(uploads.get(0).taskId(), uploads.get(1).taskId(), "one Runner task");
      assertEquals("CV " + user,
          new String(uploads.get(1).content(), StandardCharsets.UTF_8),
          "the same file, fetched again from Telegram");
      assertEquals(List.of("Вывод 1", "Вывод 2", "Вывод 3"), cluster.outputs(user));
      assertEquals(1, cluster.bot.sentTo(user).stream()
          .filter(s -> JobChecks.SUCCEEDED.equals(s.text())).count(), "one result line");
      assertTrue(cluster.runner.cancelled().isEmpty(), "no task cancelled or orphaned");
      assertEquals(1, cluster.journalEvents(user, UserEntity.JobSucceeded.class).size(),
          "charged once");
    }
  }

  private List<RunnerEmulator.Upload> uploads(long user) {
    return cluster.runner.uploads().stream().filter(u -> u.telegramId() == user).toList();
  }
}
