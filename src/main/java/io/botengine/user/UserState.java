package io.botengine.user;

import io.botengine.JsonSerializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the engine knows about one Telegram user: where the conversation stands, the running
 * job if any, the account, the update ids recently handled (to drop re-deliveries), and whether
 * the chat can be reached (false once Telegram said the bot is blocked or the chat is gone).
 */
public record UserState(
    boolean registered,
    long chatId,
    String language,
    Stage stage,
    Job job,
    Account account,
    List<Long> recentUpdates,
    boolean unreachable)
    implements JsonSerializable {

  /** Where the conversation stands. */
  public enum Stage {
    IDLE,
    WAITING_FOR_FILE,
    PROCESSING
  }

  /**
   * The running job: our id, the Runner's task id once the upload was accepted, the reserved cost,
   * the highest output index already delivered to the user (0 before the first), and the chat it
   * was started from, where its results go (0 in snapshots written before it was recorded).
   */
  public record Job(
      String jobId, String taskId, long cost, long lastDelivered, Instant startedAt, long chatId) {
    Job accepted(String runnerTaskId) {
      return new Job(jobId, runnerTaskId, cost, lastDelivered, startedAt, chatId);
    }

    Job delivered(long index) {
      return new Job(jobId, taskId, cost, Math.max(lastDelivered, index), startedAt, chatId);
    }
  }

  public UserState {
    recentUpdates = List.copyOf(recentUpdates);
  }

  static UserState empty() {
    return new UserState(false, 0, null, Stage.IDLE, null, Account.empty(), List.of(), false);
  }

  /** True when this update id was handled already, or is older than the remembered window. */
  boolean seen(long updateId, int window) {
    if (recentUpdates.contains(updateId)) {
      return true;
    }
    return recentUpdates.size() >= window && updateId < recentUpdates.get(0);
  }

  boolean hasJob(String jobId) {
    return job != null && job.jobId().equals(jobId);
  }

  UserState registered(long newChatId, String newLanguage) {
    return new UserState(true, newChatId, newLanguage, stage, job, account, recentUpdates, unreachable);
  }

  UserState withUpdate(long updateId, int window) {
    List<Long> ids = new ArrayList<>(recentUpdates);
    ids.add(updateId);
    ids.sort(null);
    if (ids.size() > window) {
      ids = ids.subList(ids.size() - window, ids.size());
    }
    return new UserState(registered, chatId, language, stage, job, account, ids, unreachable);
  }

  UserState withUnreachable(boolean value) {
    return new UserState(registered, chatId, language, stage, job, account, recentUpdates, value);
  }

  UserState withChat(long newChatId, String newLanguage) {
    return new UserState(registered, newChatId, newLanguage, stage, job, account, recentUpdates, unreachable);
  }

  UserState withStage(Stage newStage) {
    return new UserState(registered, chatId, language, newStage, job, account, recentUpdates, unreachable);
  }

  UserState withAccount(Account newAccount) {
    return new UserState(registered, chatId, language, stage, job, newAccount, recentUpdates, unreachable);
  }

  UserState withJob(Job newJob) {
    Stage newStage = newJob == null ? Stage.IDLE : Stage.PROCESSING;
    return new UserState(registered, chatId, language, newStage, newJob, account, recentUpdates, unreachable);
  }
}
