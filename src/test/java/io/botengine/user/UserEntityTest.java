package io.botengine.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.pattern.StatusReply;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import com.typesafe.config.ConfigFactory;
import io.botengine.EngineSettings;
import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Inbound;
import io.botengine.testing.CapturingAppender;
import io.botengine.testing.FakeTelegram;
import io.botengine.testing.LogCapture;
import io.botengine.testing.MutableClock;
import io.botengine.testing.ProbeJobs;
import io.botengine.user.UserEntity.Command;
import io.botengine.user.UserEntity.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapture.class)
class UserEntityTest {
  private static final long USER = 42;
  private static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString("akka.actor.provider = local")
              .withFallback(EventSourcedBehaviorTestKit.config())
              .withFallback(ConfigFactory.load("application-test.conf")));

  private final AtomicLong updateIds = new AtomicLong(1000);
  private TestProbe<FakeTelegram.Sent> sent;
  private TestProbe<FakeTelegram.Download> downloads;
  private TestProbe<ProbeJobs.Call> jobs;
  private FakeTelegram telegram;
  private MutableClock clock;
  private EventSourcedBehaviorTestKit<Command, Event, UserState> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    sent = testKit.createTestProbe();
    downloads = testKit.createTestProbe();
    jobs = testKit.createTestProbe();
    telegram = new FakeTelegram(sent.ref(), downloads.ref());
    clock = new MutableClock(Instant.parse("2026-11-21T10:00:00Z"));
    kit = kitWith(new EngineSettings.Billing(1, 1, false), 100);
  }

  private EventSourcedBehaviorTestKit<Command, Event, UserState> kitWith(
      EngineSettings.Billing billing, int snapshotEvery) {
    UserEntity.Deps deps =
        new UserEntity.Deps(
            billing,
            new EngineSettings.UserSettings(snapshotEvery, 8, 20),
            1_048_576,
            telegram,
            outboxDeps(),
            new ProbeJobs(jobs.ref()),
            clock);
    return EventSourcedBehaviorTestKit.create(
        testKit.system(), UserEntity.create(Long.toString(USER), deps));
  }

  private ChatOutbox.Deps outboxDeps() {
    return new ChatOutbox.Deps(telegram, null, 0, 1, 3, Duration.ofMillis(10),
        Duration.ofMillis(20), null);
  }

  // ------------------------------------------------------------------ helpers

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, UserState, StatusReply<Done>>
      text(String text) {
    Inbound u = new Inbound(updateIds.incrementAndGet(), USER, USER, "ru", text, null);
    return kit.runCommand(replyTo -> new UserEntity.HandleUpdate(u, replyTo));
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, UserState, StatusReply<Done>>
      document(String fileId, long reportedSize) {
    Inbound u =
        new Inbound(
            updateIds.incrementAndGet(),
            USER,
            USER,
            "ru",
            null,
            new Inbound.Document(fileId, "cv.txt", "text/plain", reportedSize));
    return kit.runCommand(replyTo -> new UserEntity.HandleUpdate(u, replyTo));
  }

  private String nextText() {
    return sent.receiveMessage().text();
  }

  private void expectNoMessage() {
    sent.expectNoMessage(Duration.ofMillis(100));
  }

  private String startJob() {
    text("/cv");
    nextText();
    telegram.file("f-ok", "Иван Иванов, Java developer".getBytes(StandardCharsets.UTF_8));
    document("f-ok", 40);
    assertEquals("🔄 Анализирую ваше резюме...", nextText());
    ProbeJobs.Call call = jobs.receiveMessage();
    assertEquals("start", call.what());
    return call.jobId();
  }

  private void accept(String jobId, String taskId) {
    TestProbe<Done> probe = testKit.createTestProbe();
    kit.runCommand(new UserEntity.TaskAccepted(jobId, taskId, 3, probe.ref()));
    probe.expectMessage(Done.getInstance());
    assertEquals("Файл получен. Позиция в очереди: 3", nextText());
  }

  // ------------------------------------------------------------------ first contact, dedup

  @Test
  void grantsWelcomeTokensOnceOnFirstContact() {
    var first = text("/start");
    assertTrue(first.reply().isSuccess());
    assertInstanceOf(UserEntity.UserRegistered.class, first.events().get(0));
    assertEquals(
        new UserEntity.TokensCredited(1, "welcome", "welcome", clock.instant()),
        first.events().get(1));
    assertTrue(nextText().startsWith("👋"));

    var second = text("/start");
    assertEquals(1, second.events().size());
    assertInstanceOf(UserEntity.UpdateAccepted.class, second.events().get(0));
    assertEquals(1, second.state().account().balance());
    nextText();
  }

  @Test
  void dropsRedeliveredUpdate() {
    Inbound u = new Inbound(7, USER, USER, "ru", "/balance", null);
    var first = kit.<StatusReply<Done>>runCommand(r -> new UserEntity.HandleUpdate(u, r));
    assertTrue(nextText().startsWith("💰 Баланс: 1 токен"));
    var again = kit.<StatusReply<Done>>runCommand(r -> new UserEntity.HandleUpdate(u, r));
    assertTrue(again.reply().isSuccess());
    assertTrue(again.events().isEmpty());
    assertEquals(first.state(), again.state());
    expectNoMessage();
  }

  @Test
  void dropsUpdatesOlderThanTheRememberedWindow() {
    for (int i = 0; i < 8; i++) {
      text("/help");
      nextText();
    }
    Inbound old = new Inbound(1, USER, USER, "ru", "/help", null);
    var result = kit.<StatusReply<Done>>runCommand(r -> new UserEntity.HandleUpdate(old, r));
    assertTrue(result.events().isEmpty());
    expectNoMessage();
  }

  @Test
  void answersInEnglishForEnglishUsers() {
    Inbound u = new Inbound(5, USER, USER, "en-GB", "/balance", null);
    kit.<StatusReply<Done>>runCommand(r -> new UserEntity.HandleUpdate(u, r));
    assertEquals("💰 Balance: 1 token\n📅 Subscription: none", nextText());
  }

  // ------------------------------------------------------------------ access

  @Test
  void checksAccessBeforePromptingInOrderBlockedSubscriptionBalance() {
    kit = kitWith(new EngineSettings.Billing(2, 0, true), 100);
    text("/start");
    nextText();
    kit.<StatusReply<UserEntity.Summary>>runCommand(r -> new UserEntity.SetBlocked(true, r));

    assertEquals("❌ Аккаунт заблокирован", sayAndRead("/cv"));
    kit.<StatusReply<UserEntity.Summary>>runCommand(r -> new UserEntity.SetBlocked(false, r));
    assertEquals("❌ Подписка истекла. Используйте /buy", sayAndRead("/cv"));
    kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.SetSubscription(clock.instant().plusSeconds(60), r));
    assertEquals("❌ Недостаточно токенов. Используйте /buy", sayAndRead("/cv"));
    kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.Credit(2, "topup", "pay-1", r));
    String prompt = sayAndRead("/cv");
    assertTrue(prompt.contains("<b>PDF</b> или <b>TXT</b>"), prompt);
    assertTrue(prompt.contains("Стоимость: <b>2 токена</b>"), prompt);
    assertEquals(UserState.Stage.WAITING_FOR_FILE, kit.getState().stage());

    clock.advance(Duration.ofMinutes(2));
    assertEquals("❌ Подписка истекла. Используйте /buy", sayAndRead("/cv"));
    assertEquals(UserState.Stage.IDLE, kit.getState().stage());
  }

  private String sayAndRead(String text) {
    text(text);
    return nextText();
  }

  // ------------------------------------------------------------------ waiting for the file

  @Test
  void repromptsForAnythingButADocumentAndCancels() {
    text("/cv");
    nextText();
    String reprompt = sayAndRead("hello");
    assertTrue(reprompt.startsWith("❌ Пожалуйста, отправьте файл.\n\n📄"), reprompt);
    Inbound photo = new Inbound(updateIds.incrementAndGet(), USER, USER, "ru", null, null);
    kit.<StatusReply<Done>>runCommand(r -> new UserEntity.HandleUpdate(photo, r));
    assertTrue(nextText().startsWith("❌ Пожалуйста, отправьте файл."));
    assertEquals("Отменено.", sayAndRead("/cancel"));
    assertEquals(UserState.Stage.IDLE, kit.getState().stage());
    assertEquals("Нечего отменять.", sayAndRead("/cancel"));
  }

  @Test
  void refusesAnOversizedDocumentBeforeDownloadingIt() {
    text("/cv");
    nextText();
    var result = document("f-big", 1_048_577);
    assertTrue(result.reply().isSuccess());
    assertEquals("❌ Файл слишком большой. Максимум 1 МБ.", nextText());
    downloads.expectNoMessage(Duration.ofMillis(100));
    assertEquals(UserState.Stage.WAITING_FOR_FILE, kit.getState().stage());
  }

  @Test
  void checksDownloadedContent() {
    text("/cv");
    nextText();
    telegram.file("empty", new byte[0]);
    telegram.file("binary", new byte[] {'P', 'K', 3, 4, 0, 0, 1});
    telegram.file("latin1", new byte[] {'C', 'a', 'f', (byte) 0xE9});
    document("empty", 0);
    assertEquals("❌ Файл пустой.", nextText());
    document("binary", 7);
    assertEquals("❌ Неверный формат файла. Поддерживаются только PDF и TXT.", nextText());
    document("latin1", 4);
    assertEquals("❌ Неверный формат файла. Поддерживаются только PDF и TXT.", nextText());
    assertEquals(UserState.Stage.WAITING_FOR_FILE, kit.getState().stage());
    assertEquals(0, kit.getState().account().reserved());
  }

  @Test
  void tellsTheUserWhenTelegramCannotServeTheFile() {
    text("/cv");
    nextText();
    document("missing", 10);
    assertEquals(
        "❌ Не удалось получить файл от Telegram. Попробуйте отправить его ещё раз.", nextText());
  }

  // ------------------------------------------------------------------ jobs and billing

  @Test
  void validPdfStartsAJobAndReservesItsCostWithoutJournalingTheFile() {
    text("/cv");
    nextText();
    byte[] pdf = "%PDF-1.7\n...".getBytes(StandardCharsets.US_ASCII);
    telegram.file("pdf", pdf);
    document("pdf", pdf.length);
    assertEquals("🔄 Анализирую ваше резюме...", nextText());
    ProbeJobs.Call call = jobs.receiveMessage();
    assertEquals("cv.txt", call.spec().fileName());
    assertEquals(pdf.length, call.spec().content().length);
    assertNull(call.spec().taskId());
    UserState state = kit.getState();
    assertEquals(UserState.Stage.PROCESSING, state.stage());
    assertEquals(1, state.account().reserved());
    assertEquals(0, state.account().available());
    assertEquals("💰 Баланс: 1 токен (зарезервировано для текущего анализа: 1 токен)\n"
        + "📅 Подписка: не оформлена", sayAndRead("/balance"));
  }

  @Test
  void chargesOnSuccessUnderTheTaskIdempotencyKey() {
    String jobId = startJob();
    accept(jobId, "task-1");
    var result = kit.runCommand(new UserEntity.TaskSucceeded(jobId));
    assertEquals(
        new UserEntity.JobSucceeded(jobId, "task-1", 1, "cv_analysis_task-1", clock.instant()),
        result.events().get(0));
    assertEquals("✅ Анализ завершён! Списано: 1 токен", nextText());
    Account account = result.state().account();
    assertEquals(0, account.balance());
    assertEquals(0, account.reserved());
    assertEquals(UserState.Stage.IDLE, result.state().stage());
  }

  @Test
  void neverChargesTheSameRunnerTaskTwice() {
    kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.Credit(5, "topup", "pay-1", r));
    String first = startJob();
    accept(first, "task-1");
    kit.runCommand(new UserEntity.TaskSucceeded(first));
    nextText();
    kit.runCommand(new UserEntity.TaskSucceeded(first));
    expectNoMessage();
    String second = startJob();
    accept(second, "task-1");
    var result = kit.runCommand(new UserEntity.TaskSucceeded(second));
    assertEquals("✅ Анализ завершён!", nextText());
    assertEquals(5, result.state().account().balance());
  }

  @Test
  void releasesTheReservationOnFailureTimeoutAndUploadError() {
    String jobId = startJob();
    accept(jobId, "task-1");
    kit.runCommand(new UserEntity.TaskFailed(jobId, JobOutcome.FAILED, "Ошибка обработки файла"));
    assertEquals("❌ Ошибка обработки файла", nextText());
    assertEquals(1, kit.getState().account().available());

    String timedOut = startJob();
    kit.runCommand(new UserEntity.TaskFailed(timedOut, JobOutcome.TIMED_OUT, null));
    assertEquals("Превышено время ожидания. Попробуйте позже.", nextText());

    String upload = startJob();
    kit.runCommand(new UserEntity.TaskFailed(upload, JobOutcome.UPLOAD_FAILED, null));
    assertEquals("Ошибка загрузки файла", nextText());
    assertEquals(1, kit.getState().account().balance());
    assertEquals(0, kit.getState().account().reserved());
  }

  @Test
  void cancelsRunningJobOnCvReentry() {
    String jobId = startJob();
    accept(jobId, "task-1");
    text("/cv");
    assertEquals("Анализ отменён.", nextText());
    assertTrue(nextText().startsWith("📄"));
    ProbeJobs.Call cancel = jobs.receiveMessage();
    assertEquals(new ProbeJobs.Call("cancel", null, jobId, "task-1"), cancel);
    assertEquals(UserState.Stage.WAITING_FOR_FILE, kit.getState().stage());
    assertEquals(0, kit.getState().account().reserved());
    kit.runCommand(new UserEntity.TaskSucceeded(jobId));
    expectNoMessage();
    assertEquals(1, kit.getState().account().balance());
  }

  @Test
  void answersADocumentDuringProcessingWithoutStartingAnother() {
    startJob();
    telegram.file("f2", "second".getBytes(StandardCharsets.UTF_8));
    var result = document("f2", 6);
    assertTrue(result.reply().isSuccess());
    assertEquals(
        "⏳ Предыдущий анализ ещё выполняется. Дождитесь результата или отправьте /cancel.",
        nextText());
    jobs.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void recordsOnlyNewDeliveredIndexes() {
    String jobId = startJob();
    accept(jobId, "task-1");
    TestProbe<Done> ack = testKit.createTestProbe();
    assertEquals(1, kit.runCommand(new UserEntity.RecordDelivery(jobId, 1, ack.ref())).events().size());
    assertTrue(kit.runCommand(new UserEntity.RecordDelivery(jobId, 1, ack.ref())).events().isEmpty());
    assertTrue(kit.runCommand(new UserEntity.RecordDelivery("old", 5, ack.ref())).events().isEmpty());
    ack.receiveSeveralMessages(3);
    assertEquals(1, kit.getState().job().lastDelivered());
  }

  // ------------------------------------------------------------------ recovery

  @Test
  void resumesAnAcceptedJobAfterRestartFromTheNextIndex() {
    String jobId = startJob();
    accept(jobId, "task-1");
    TestProbe<Done> ack = testKit.createTestProbe();
    kit.runCommand(new UserEntity.RecordDelivery(jobId, 2, ack.ref()));
    kit.restart();
    ProbeJobs.Call resume = jobs.receiveMessage();
    assertEquals("task-1", resume.spec().taskId());
    assertEquals(2, resume.spec().lastDelivered());
    assertNull(resume.spec().content());
  }

  @Test
  void asksForTheFileAgainWhenTheEngineDiedBeforeTheUpload() {
    startJob();
    kit.restart();
    assertEquals(
        "❌ Файл не успел дойти до сервиса анализа. Отправьте /cv и файл ещё раз — токены не списаны.",
        nextText());
    jobs.expectNoMessage(Duration.ofMillis(100));
    assertEquals(UserState.Stage.IDLE, kit.getState().stage());
    assertEquals(0, kit.getState().account().reserved());
  }

  @Test
  void recoversTheSameStateFromEventsAndFromASnapshot() {
    kit = kitWith(new EngineSettings.Billing(1, 1, false), 3);
    text("/start");
    kit.<StatusReply<UserEntity.Summary>>runCommand(r -> new UserEntity.Credit(4, "a", "k1", r));
    text("/cv");
    kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.SetSubscription(Instant.parse("2027-01-01T00:00:00Z"), r));
    text("/balance");
    UserState before = kit.getState();
    kit.restart();
    assertEquals(before, kit.getState());
    assertEquals(5, kit.getState().account().balance());
    assertEquals(UserState.Stage.WAITING_FOR_FILE, kit.getState().stage());
  }

  @Test
  void answersBalanceWhateverTheSubscriptionDate() {
    for (Instant until : List.of(Instant.MAX, Instant.MIN, Instant.parse("+1000000000-01-01T00:00:00Z"))) {
      kit.<StatusReply<UserEntity.Summary>>runCommand(r -> new UserEntity.SetSubscription(until, r));
      assertTrue(sayAndRead("/balance").startsWith("💰 Баланс: 1 токен\n📅 Подписка"));
    }
  }

  @Test
  void logsUserTextEscapedSoItCannotForgeLines() {
    text("/x\u0007\u001b[2Kfake");
    kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.Credit(1, "promo\n10:00:00.000 INFO forged", "k-log", r));
    sent.awaitAssert(() -> {
      String log = CapturingAppender.text();
      assertTrue(log.contains("\"/x\\u0007\\u001b[2kfake\""), log);
      assertTrue(log.contains("credit 1 (\"promo\\n10:00:00.000 INFO forged\")"), log);
      assertFalse(log.contains("\u001b"), log);
      assertFalse(log.contains("\n10:00:00.000 INFO forged"), log);
      return null;
    });
  }

  // ------------------------------------------------------------------ admin

  @Test
  void creditsOncePerIdempotencyKey() {
    var first = kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.Credit(5, "promo", "promo-1", r));
    assertEquals(5, first.reply().getValue().balance());
    var again = kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.Credit(5, "promo", "promo-1", r));
    assertTrue(again.events().isEmpty());
    assertEquals(5, again.reply().getValue().balance());
    UserEntity.Summary summary = again.reply().getValue();
    assertEquals(List.of("promo-1"), summary.ledger().stream().map(Account.LedgerEntry::key).toList());
    assertFalse(summary.blocked());
  }

  @Test
  void outboxDropsEverythingOfACancelledJob() {
    TestProbe<Done> acks = testKit.createTestProbe();
    var outbox = testKit.spawn(ChatOutbox.create(USER, outboxDeps(), null));
    outbox.tell(new ChatOutbox.DropJob("job-1"));
    outbox.tell(new ChatOutbox.Send(
        io.botengine.telegram.Outgoing.Text.plain("late output"), "job-1", acks.ref()));
    outbox.tell(ChatOutbox.Send.of(io.botengine.telegram.Outgoing.Text.plain("reply")));
    assertEquals("reply", nextText());
    acks.expectMessage(Done.getInstance());
  }
}
