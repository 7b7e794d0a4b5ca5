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
import io.botengine.job.JobOutcome;
import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Inbound;
import io.botengine.telegram.Outgoing;
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
  private static final EngineSettings.Payments PAYMENTS = new EngineSettings.Payments(
      List.of(new EngineSettings.Payments.Pack(5, 50), new EngineSettings.Payments.Pack(20, 180)),
      new EngineSettings.Payments.Subscription(300, 10), 0, "");
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
  private EngineSettings.Payments payments = PAYMENTS;
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
            payments,
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

  /**
   * Restarts the entity once Telegram confirmed every reply it persisted; a reply still pending
   * would be sent again on recovery, as after a real crash.
   */
  private void restart() {
    awaitRepliesConfirmed();
    kit.restart();
  }

  /** Waits until Telegram's confirmations of the durable replies sent so far are persisted. */
  private void awaitRepliesConfirmed() {
    sent.awaitAssert(() -> {
      assertTrue(kit.getState().pendingReplies().isEmpty(), "replies still pending");
      return null;
    });
  }

  /**
   * Waits until the recovered actor has sent again what Telegram still holds, so that releasing
   * the chat afterwards does not race with that send (it would be accepted and then repeated).
   */
  private void awaitHeldCalls(int count) {
    sent.awaitAssert(() -> {
      assertEquals(count, telegram.heldCalls(), "sends held by Telegram");
      return null;
    });
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

  // ------------------------------------------------------------------ privacy: which chat

  private static final long GROUP = -1_001_234_567_890L;
  private static final String POINTER =
      "🔒 Я работаю только в личном чате: там ваш баланс, файлы и результаты не видны никому. "
          + "Напишите мне в личные сообщения.";

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, UserState, StatusReply<Done>>
      inChat(long chatId, String text, Inbound.Document document) {
    Inbound u = new Inbound(updateIds.incrementAndGet(), USER, chatId, "ru", text, document);
    return kit.runCommand(replyTo -> new UserEntity.HandleUpdate(u, replyTo));
  }

  private void expectSent(long chatId, String text) {
    FakeTelegram.Sent message = sent.receiveMessage();
    assertEquals(chatId, message.chatId(), "chat of: " + message.text());
    assertEquals(text, message.text());
  }

  @Test
  void answersCommandsInAGroupOnlyWithAPointerToThePrivateChat() {
    inChat(GROUP, "/start@cv_bot", null);
    expectSent(GROUP, POINTER);
    inChat(GROUP, "/balance@cv_bot", null);
    expectSent(GROUP, POINTER);
    var cv = inChat(GROUP, "/cv@cv_bot", null);
    expectSent(GROUP, POINTER);
    assertInstanceOf(UserState.Idle.class, cv.state().conversation());
    inChat(GROUP, "hello everyone", null);
    expectNoMessage();
    assertEquals(1, kit.getState().account().balance());
  }

  @Test
  void sendsPromptOutputsAndResultToThePrivateChatOfAUserFirstSeenInAGroup() {
    inChat(GROUP, "/start@cv_bot", null);
    expectSent(GROUP, POINTER);
    inChat(USER, "/balance", null);
    expectSent(USER, "💰 Баланс: 1 токен\n📅 Подписка: не оформлена");
    inChat(USER, "/cv", null);
    assertEquals(USER, sent.receiveMessage().chatId());
    var fromGroup = inChat(GROUP, null, new Inbound.Document("f-ok", "cv.txt", "text/plain", 40));
    expectSent(GROUP, POINTER);
    downloads.expectNoMessage(Duration.ofMillis(100));
    assertInstanceOf(UserState.WaitingForFile.class, fromGroup.state().conversation());

    telegram.file("f-ok", "Иван Иванов, Java developer".getBytes(StandardCharsets.UTF_8));
    inChat(USER, null, new Inbound.Document("f-ok", "cv.txt", "text/plain", 40));
    expectSent(USER, "🔄 Анализирую ваше резюме...");
    ProbeJobs.Call start = jobs.receiveMessage();
    assertEquals(USER, start.spec().chatId());
    TestProbe<Done> ack = testKit.createTestProbe();
    kit.runCommand(new UserEntity.TaskAccepted(start.jobId(), "task-1", 3, ack.ref()));
    expectSent(USER, "Файл получен. Позиция в очереди: 3");
    kit.runCommand(new UserEntity.TaskSucceeded(start.jobId()));
    expectSent(USER, "✅ Анализ завершён! Списано: 1 токен");
    restart();
    expectNoMessage();
  }

  @Test
  void resumesAJobOfAnOlderJournalInThePrivateChatNotWhereTheUserFirstWrote() {
    Instant at = clock.instant();
    kit.persistenceTestKit().persistForRecovery(
        "User|" + USER,
        List.of(
            new UserEntity.UserRegistered(GROUP, "ru", at),
            new UserEntity.TokensCredited(1, "welcome", "welcome", at),
            new UserEntity.FileRequested(at),
            new UserEntity.JobStarted("job-old", 1, "cv.txt", at, 0, null),
            new UserEntity.JobAccepted("job-old", "task-old", 1)));
    restart();
    ProbeJobs.Call resume = jobs.receiveMessage();
    assertEquals("task-old", resume.spec().taskId());
    assertEquals(USER, resume.spec().chatId());
    kit.runCommand(new UserEntity.TaskSucceeded("job-old"));
    expectSent(USER, "✅ Анализ завершён! Списано: 1 токен");
  }

  @Test
  void aChatThatBlockedTheBotCancelsTheJobUnchargedUntilTheUserWritesAgain() {
    String jobId = startJob();
    telegram.refuse(USER);
    text("/balance");
    ProbeJobs.Call cancel = jobs.receiveMessage();
    assertEquals("cancel", cancel.what());
    assertEquals(jobId, cancel.jobId());
    assertTrue(kit.getState().unreachable());
    assertInstanceOf(UserState.Idle.class, kit.getState().conversation());
    assertEquals(0, kit.getState().account().reserved());
    telegram.accept(USER);
    text("/balance");
    assertFalse(kit.getState().unreachable());
    expectSent(USER, "💰 Баланс: 1 токен\n📅 Подписка: не оформлена");
  }

  @Test
  void aGroupThatRemovedTheBotNeitherCancelsThePrivateJobNorSilencesThePrivateChat() {
    String jobId = startJob();
    telegram.refuse(GROUP);
    inChat(GROUP, "/balance@cv_bot", null);
    jobs.expectNoMessage(Duration.ofMillis(300));
    assertFalse(kit.getState().unreachable());
    assertEquals(jobId, kit.getState().job().jobId());
    inChat(USER, "/balance", null);
    expectSent(USER, "💰 Баланс: 1 токен (зарезервировано для текущего анализа: 1 токен)\n"
        + "📅 Подписка: не оформлена");
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
    assertInstanceOf(UserState.WaitingForFile.class, kit.getState().conversation());

    clock.advance(Duration.ofMinutes(2));
    assertEquals("❌ Подписка истекла. Используйте /buy", sayAndRead("/cv"));
    assertInstanceOf(UserState.Idle.class, kit.getState().conversation());
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
    assertInstanceOf(UserState.Idle.class, kit.getState().conversation());
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
    assertInstanceOf(UserState.WaitingForFile.class, kit.getState().conversation());
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
    assertInstanceOf(UserState.WaitingForFile.class, kit.getState().conversation());
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
    assertInstanceOf(UserState.Processing.class, state.conversation());
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
    assertInstanceOf(UserState.Idle.class, result.state().conversation());
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

    String unexplained = startJob();
    kit.runCommand(new UserEntity.TaskFailed(unexplained, JobOutcome.FAILED, null));
    assertEquals("❌ Неизвестная ошибка сервера", nextText());
  }

  @Test
  void tellsAnEnglishUserAFailureWithoutReasonInEnglish() {
    inChat(USER, "/start", null);
    kit.<StatusReply<Done>>runCommand(r -> new UserEntity.HandleUpdate(
        new Inbound(updateIds.incrementAndGet(), USER, USER, "en", "/cv", null), r));
    sent.receiveMessage();
    sent.receiveMessage();
    telegram.file("f-en", "John Smith, Java developer".getBytes(StandardCharsets.UTF_8));
    kit.<StatusReply<Done>>runCommand(r -> new UserEntity.HandleUpdate(new Inbound(updateIds.incrementAndGet(), USER,
        USER, "en", null, new Inbound.Document("f-en", "cv.txt", "text/plain", 26)), r));
    assertEquals("🔄 Analysing your CV...", nextText());
    String jobId = jobs.receiveMessage().jobId();
    kit.runCommand(new UserEntity.TaskFailed(jobId, JobOutcome.FAILED, null));
    assertEquals("❌ Unknown server error", nextText());
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
    assertInstanceOf(UserState.WaitingForFile.class, kit.getState().conversation());
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
    restart();
    ProbeJobs.Call resume = jobs.receiveMessage();
    assertEquals("task-1", resume.spec().taskId());
    assertEquals(2, resume.spec().lastDelivered());
    assertNull(resume.spec().content());
  }

  @Test
  void handsAnEditModePreviewMessageToTheTaskThatResumesUntilItsOutputIsDelivered() {
    String jobId = startJob();
    accept(jobId, "task-1");
    TestProbe<Done> ack = testKit.createTestProbe();
    kit.runCommand(new UserEntity.RecordDelivery(jobId, 1, ack.ref()));
    assertEquals(List.of(new UserEntity.PreviewMessageSent(jobId, 2, 77)),
        kit.runCommand(new UserEntity.RecordPreview(jobId, 2, 77)).events());
    assertTrue(kit.runCommand(new UserEntity.RecordPreview(jobId, 1, 78)).events().isEmpty(),
        "an output already delivered has no preview");
    restart();
    ProbeJobs.Call resume = jobs.receiveMessage();
    assertEquals(2, resume.spec().previewIndex());
    assertEquals(77, resume.spec().previewMessageId(), "finished or deleted, never sent again");

    kit.runCommand(new UserEntity.RecordDelivery(jobId, 2, ack.ref()));
    restart();
    ProbeJobs.Call later = jobs.receiveMessage();
    assertEquals(0, later.spec().previewMessageId(), "the delivered output took the message");
  }

  @Test
  void removesTheStatusMessageOfAJobInterruptedByACrash() {
    String jobId = startJob();
    accept(jobId, "task-1");
    assertEquals(List.of(new UserEntity.StatusMessageShown(jobId, 55)),
        kit.runCommand(new UserEntity.RecordStatus(jobId, 55)).events());
    restart();
    FakeTelegram.Sent delete = sent.receiveMessage();
    assertEquals(new Outgoing.Delete(55), delete.message());
    assertEquals(USER, delete.chatId());
    assertEquals("task-1", jobs.receiveMessage().taskId());
  }

  @Test
  void removesTheStatusMessageOfAJobThatEndedJustBeforeACrash() {
    String jobId = startJob();
    accept(jobId, "task-1");
    kit.runCommand(new UserEntity.RecordStatus(jobId, 55));
    telegram.hold(USER);
    kit.runCommand(new UserEntity.TaskSucceeded(jobId));
    expectNoMessage();
    kit.restart();
    awaitHeldCalls(2);
    telegram.accept(USER);
    kit.restart();
    assertEquals(new Outgoing.Delete(55), sent.receiveMessage().message(),
        "the ⏳ line goes first, then the result");
    assertEquals("✅ Анализ завершён! Списано: 1 токен", nextText());
    restart();
    expectNoMessage();
    jobs.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void removesTheStatusMessageWhenTheJobEndsAndNotAgainAfterARestart() {
    String jobId = startJob();
    accept(jobId, "task-1");
    kit.runCommand(new UserEntity.RecordStatus(jobId, 56));
    kit.runCommand(new UserEntity.TaskFailed(jobId, JobOutcome.FAILED, "boom"));
    assertEquals(new Outgoing.Delete(56), sent.receiveMessage().message());
    nextText();
    restart();
    expectNoMessage();
  }

  @Test
  void aSuccessLineTelegramHadNotConfirmedBeforeACrashArrivesOnceAfterIt() {
    String jobId = startJob();
    accept(jobId, "task-1");
    telegram.hold(USER);
    kit.runCommand(new UserEntity.TaskSucceeded(jobId));
    expectNoMessage();
    assertEquals(1, kit.getState().pendingReplies().size());
    kit.restart();
    awaitHeldCalls(2);
    telegram.accept(USER);
    kit.restart();
    assertEquals("✅ Анализ завершён! Списано: 1 токен", nextText());
    sent.awaitAssert(() -> {
      assertTrue(kit.getState().pendingReplies().isEmpty());
      return null;
    });
    restart();
    expectNoMessage();
    assertEquals(0, kit.getState().account().balance());
  }

  @Test
  void uploadsTheFileAgainWhenTheEngineDiedBeforeTheRunnerAcceptedIt() {
    String jobId = startJob();
    restart();
    assertEquals(new FakeTelegram.Download("f-ok"), downloads.receiveMessage());
    ProbeJobs.Call again = jobs.receiveMessage();
    assertEquals("start", again.what());
    assertEquals(jobId, again.jobId());
    assertNull(again.spec().taskId());
    assertEquals("cv.txt", again.spec().fileName());
    assertEquals("Иван Иванов, Java developer",
        new String(again.spec().content(), StandardCharsets.UTF_8));
    expectNoMessage();
    assertEquals(1, kit.getState().account().reserved());
  }

  /**
   * The Runner may have made a task for the upload the crash cut short; cancelled before the file
   * was uploaded again, the job still has the file uploaded once more, with its key, only to find
   * that task and cancel it.
   */
  @Test
  void cancelsTheTaskOfAnUploadCutShortWhenTheJobIsCancelledBeforeTheFileIsUploadedAgain() {
    String jobId = startJob();
    telegram.holdDownloads();
    restart();
    assertEquals(new FakeTelegram.Download("f-ok"), downloads.receiveMessage());
    assertEquals("Анализ отменён.", sayAndRead("/cancel"));
    assertEquals(new ProbeJobs.Call("cancel", null, jobId, null), jobs.receiveMessage());
    telegram.releaseDownloads();
    ProbeJobs.Call reap = jobs.receiveMessage();
    assertEquals("cancelOrphan", reap.what());
    assertEquals(jobId, reap.jobId());
    assertEquals(USER, reap.spec().userId());
    assertEquals("cv.txt", reap.spec().fileName());
    assertEquals("Иван Иванов, Java developer",
        new String(reap.spec().content(), StandardCharsets.UTF_8));
    jobs.expectNoMessage(Duration.ofMillis(100));
    expectNoMessage();
    assertEquals(0, kit.getState().account().reserved());
  }

  @Test
  void asksForTheFileAgainWhenTelegramNoLongerServesIt() {
    startJob();
    telegram.file("f-ok", null);
    restart();
    assertEquals(
        "❌ Файл не успел дойти до сервиса анализа. Отправьте /cv и файл ещё раз — токены не списаны.",
        nextText());
    jobs.expectNoMessage(Duration.ofMillis(100));
    assertInstanceOf(UserState.Idle.class, kit.getState().conversation());
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
    restart();
    assertEquals(before, kit.getState());
    assertEquals(5, kit.getState().account().balance());
    assertInstanceOf(UserState.WaitingForFile.class, kit.getState().conversation());
  }

  @Test
  void readsSnapshotsWrittenBeforeTheConversationWasASealedType() {
    String v1 = """
        {"registered":true,"chatId":-100,"language":"ru","stage":"%s",%s
         "account":{"balance":2,"reserved":1,"subscriptionUntil":null,"blocked":false,
                    "ledger":[],"appliedKeys":["welcome"]},
         "recentUpdates":[7,9],"unreachable":false}""";
    String job = """
        "job":{"jobId":"j1","taskId":"t1","cost":1,"lastDelivered":3,
               "startedAt":"2026-11-21T10:00:00Z"},""";
    UserState processing = readSnapshotV1(String.format(v1, "PROCESSING", job));
    assertEquals(
        new UserState.Processing(new UserState.Job(
            "j1", "t1", 1, 3, Instant.parse("2026-11-21T10:00:00Z"), 0)),
        processing.conversation());
    assertEquals(List.of(7L, 9L), processing.recentUpdates());
    assertEquals(1, processing.account().reserved());
    assertInstanceOf(UserState.WaitingForFile.class,
        readSnapshotV1(String.format(v1, "WAITING_FOR_FILE", "")).conversation());
    assertInstanceOf(UserState.Idle.class,
        readSnapshotV1(String.format(v1, "PROCESSING", "\"job\":null,")).conversation());
  }

  private static UserState readSnapshotV1(String json) {
    akka.serialization.Serialization serialization =
        akka.serialization.SerializationExtension.get(testKit.system());
    int id = serialization.findSerializerFor(UserState.empty()).identifier();
    return (UserState) serialization
        .deserialize(json.getBytes(StandardCharsets.UTF_8), id, UserState.class.getName())
        .get();
  }

  @Test
  void keepsAnsweringAfterTheJournalFailedAWrite() {
    var journal = akka.persistence.testkit.javadsl.PersistenceTestKit.create(testKit.system());
    var user = testKit.spawn(UserEntity.create("4242", new UserEntity.Deps(
        new EngineSettings.Billing(1, 1, false), payments, new EngineSettings.UserSettings(100, 8, 20),
        1_048_576, telegram, outboxDeps(), new ProbeJobs(jobs.ref()), clock)));
    TestProbe<StatusReply<Done>> replies = testKit.createTestProbe();
    journal.failNextPersisted("User|4242");
    user.tell(new UserEntity.HandleUpdate(
        new Inbound(1, 4242, 4242, "ru", "/start", null), replies.ref()));
    replies.expectNoMessage(Duration.ofMillis(300));
    AtomicLong retried = new AtomicLong(2);
    replies.awaitAssert(Duration.ofSeconds(10), () -> {
      user.tell(new UserEntity.HandleUpdate(
          new Inbound(retried.getAndIncrement(), 4242, 4242, "ru", "/balance", null),
          replies.ref()));
      assertTrue(replies.receiveMessage(Duration.ofMillis(500)).isSuccess());
      return null;
    });
    expectSent(4242, "💰 Баланс: 1 токен\n📅 Подписка: не оформлена");
  }

  // ------------------------------------------------------------------ Stars payments

  private EventSourcedBehaviorTestKit.CommandResultWithReply<Command, Event, UserState, StatusReply<Done>>
      payment(Inbound.Payment payment) {
    Inbound u = new Inbound(updateIds.incrementAndGet(), USER, USER, "ru", null, null, payment);
    return kit.runCommand(replyTo -> new UserEntity.HandleUpdate(u, replyTo));
  }

  /** /buy; returns the offers it made, the packs first. */
  private List<Purchases.Offer> buy() {
    var result = text("/buy");
    assertTrue(nextText().startsWith("⭐ Пополнение баланса за Telegram Stars."));
    UserEntity.OffersMade made = (UserEntity.OffersMade) result.events().stream()
        .filter(e -> e instanceof UserEntity.OffersMade).findFirst().orElseThrow();
    for (int i = 0; i < made.offers().size(); i++) {
      sent.receiveMessage();
    }
    return made.offers();
  }

  private Inbound.Paid paid(Purchases.Offer offer, String chargeId) {
    return new Inbound.Paid("XTR", offer.stars(), offer.payload(), chargeId, 0, false);
  }

  @Test
  void buyOffersEveryPackAndTheSubscriptionAsStarsInvoices() {
    text("/buy");
    assertEquals("⭐ Пополнение баланса за Telegram Stars. Выберите пакет — токены зачисляются"
        + " сразу после оплаты.", nextText());
    Outgoing.Invoice five = (Outgoing.Invoice) sent.receiveMessage().message();
    assertEquals("Пакет: 5 токенов", five.title());
    assertEquals(50, five.stars());
    assertTrue(five.payload().startsWith("pack:5:50:"), five.payload());
    Outgoing.Invoice twenty = (Outgoing.Invoice) sent.receiveMessage().message();
    assertEquals(180, twenty.stars());
    Outgoing.SubscriptionOffer monthly =
        (Outgoing.SubscriptionOffer) sent.receiveMessage().message();
    assertEquals(300, monthly.stars());
    assertEquals("Оформить за 300 ⭐", monthly.button());
    assertTrue(monthly.payload().startsWith("sub:10:300:"), monthly.payload());
  }

  @Test
  void buyWithNothingOnSaleSaysToContactTheAdministrator() {
    payments = EngineSettings.Payments.NONE;
    kit = kitWith(new EngineSettings.Billing(1, 1, false), 100);
    assertEquals("Чтобы пополнить баланс, обратитесь к администратору бота.", sayAndRead("/buy"));
  }

  @Test
  void takesAPaymentOnlyForAnOfferMadeToThisUserInStarsAtItsPrice() {
    Purchases.Offer five = buy().get(0);
    payment(new Inbound.PreCheckout("q1", "XTR", 50, five.payload()));
    assertEquals(new FakeTelegram.PaymentCall("answerPreCheckoutQuery", "q1", null),
        telegram.nextPaymentCall());

    payment(new Inbound.PreCheckout("q2", "XTR", 50, "pack:5:50:madeup"));
    assertEquals("Это предложение устарело. Отправьте /buy ещё раз.",
        telegram.nextPaymentCall().error());
    payment(new Inbound.PreCheckout("q3", "XTR", 50, "pack:500:50:" + five.offerId()));
    assertEquals("Это предложение устарело. Отправьте /buy ещё раз.",
        telegram.nextPaymentCall().error());
    payment(new Inbound.PreCheckout("q4", "XTR", 5, five.payload()));
    assertEquals("Сумма не совпадает с предложением. Отправьте /buy ещё раз.",
        telegram.nextPaymentCall().error());
    payment(new Inbound.PreCheckout("q5", "USD", 50, five.payload()));
    assertEquals("Сумма не совпадает с предложением. Отправьте /buy ещё раз.",
        telegram.nextPaymentCall().error());
    kit.<StatusReply<UserEntity.Summary>>runCommand(r -> new UserEntity.SetBlocked(true, r));
    payment(new Inbound.PreCheckout("q6", "XTR", 50, five.payload()));
    assertEquals("Аккаунт заблокирован: оплата невозможна.", telegram.nextPaymentCall().error());
    expectNoMessage();
  }

  @Test
  void creditsAPaymentOnceByItsChargeIdAcrossRedeliveryAndRestart() {
    Purchases.Offer five = buy().get(0);
    payment(new Inbound.PreCheckout("q1", "XTR", 50, five.payload()));
    telegram.nextPaymentCall();
    restart();
    var first = payment(paid(five, "charge-1"));
    assertTrue(first.reply().isSuccess());
    assertEquals("✅ Оплачено: +5 токенов. Баланс: 6 токенов", nextText());
    // Its ReplyConfirmed must not land among the redelivery's events.
    awaitRepliesConfirmed();
    var again = payment(paid(five, "charge-1"));
    assertTrue(again.reply().isSuccess());
    assertEquals(List.of(UserEntity.UpdateAccepted.class),
        again.events().stream().map(Object::getClass).toList());
    expectNoMessage();
    restart();
    payment(paid(five, "charge-1"));
    expectNoMessage();
    assertEquals(6, kit.getState().account().balance());
    assertEquals("stars:charge-1", kit.getState().account().ledger().get(1).key());
  }

  @Test
  void creditsTheTokensTheInvoiceNamedWhenTheOfferChangedSince() {
    Purchases.Offer five = buy().get(0);
    payments = new EngineSettings.Payments(List.of(new EngineSettings.Payments.Pack(3, 50)),
        new EngineSettings.Payments.Subscription(0, 0), 0, "");
    kit = kitWith(new EngineSettings.Billing(1, 1, false), 100);
    payment(paid(five, "charge-old"));
    assertEquals("✅ Оплачено: +5 токенов. Баланс: 6 токенов", nextText());
  }

  @Test
  void aSubscriptionPaymentRunsUntilTelegramsExpirationAndGrantsItsMonthlyTokens() {
    Purchases.Offer monthly = buy().get(2);
    long until = Instant.parse("2026-12-21T10:00:00Z").getEpochSecond();
    payment(new Inbound.Paid("XTR", 300, monthly.payload(), "sub-1", until, false));
    assertEquals("✅ Подписка оплачена до 21.12.2026 10:00 UTC, начислено +10 токенов. Баланс:"
        + " 11 токенов", nextText());
    long renewed = Instant.parse("2027-01-20T10:00:00Z").getEpochSecond();
    payment(new Inbound.Paid("XTR", 300, monthly.payload(), "sub-2", renewed, true));
    assertEquals("✅ Подписка оплачена до 20.01.2027 10:00 UTC, начислено +10 токенов. Баланс:"
        + " 21 токен", nextText());
    assertEquals(Instant.ofEpochSecond(renewed), kit.getState().account().subscriptionUntil());
  }

  @Test
  void aRefundTakesBackThePaymentsTokensButNeverWhatARunningJobReserved() {
    Purchases.Offer five = buy().get(0);
    payment(paid(five, "charge-1"));
    nextText();
    String first = startJob();
    accept(first, "task-1");
    kit.runCommand(new UserEntity.TaskSucceeded(first));
    assertEquals("✅ Анализ завершён! Списано: 1 токен", nextText());
    startJob();
    assertEquals(4, kit.getState().account().available());

    var refund = kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.RefundPayment("charge-1", r));
    assertEquals("refundStarPayment", telegram.nextPaymentCall().method());
    assertTrue(refund.reply().isSuccess(), String.valueOf(refund.reply()));
    assertEquals("↩️ Платёж на 50 ⭐ возвращён. Списано: 4 токена. Баланс: 1 токен",
        nextText());
    assertEquals(1, kit.getState().account().reserved());
    assertEquals(0, kit.getState().account().available());
    Account.LedgerEntry last = refund.reply().getValue().ledger()
        .get(refund.reply().getValue().ledger().size() - 1);
    assertEquals(-4, last.amount());
    assertEquals("refund:charge-1", last.key());
  }

  @Test
  void refundsEachChargeOnceAndSaysWhyNot() {
    Purchases.Offer five = buy().get(0);
    payment(paid(five, "charge-1"));
    nextText();
    var unknown = kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.RefundPayment("nope", r));
    assertEquals("not found: no payment with telegram_payment_charge_id nope",
        unknown.reply().getError().getMessage());
    kit.<StatusReply<UserEntity.Summary>>runCommand(r -> new UserEntity.RefundPayment("charge-1", r));
    telegram.nextPaymentCall();
    nextText();
    awaitRepliesConfirmed();
    var twice = kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.RefundPayment("charge-1", r));
    assertTrue(twice.reply().getError().getMessage().startsWith(
        "conflict: payment charge-1 was refunded already"), twice.reply().toString());
    assertTrue(twice.events().isEmpty());
    assertEquals(1, kit.getState().account().balance());
  }

  @Test
  void recordsARefundTelegramReportsAndRefusesToRefundItAgain() {
    Purchases.Offer twenty = buy().get(1);
    payment(paid(twenty, "charge-20"));
    nextText();
    payment(new Inbound.Refunded("XTR", 180, twenty.payload(), "charge-20"));
    assertEquals("↩️ Платёж на 180 ⭐ возвращён. Списано: 20 токенов. Баланс: 1 токен",
        nextText());
    payment(new Inbound.Refunded("XTR", 180, twenty.payload(), "charge-20"));
    expectNoMessage();
    var admin = kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.RefundPayment("charge-20", r));
    assertTrue(admin.reply().isError());
    assertEquals(1, kit.getState().account().balance());
  }

  @Test
  void recordsARefundTelegramSaysWasMadeAlreadyElsewhere() {
    Purchases.Offer five = buy().get(0);
    payment(paid(five, "charge-1"));
    nextText();
    telegram.refundedElsewhere("charge-1");
    var refund = kit.<StatusReply<UserEntity.Summary>>runCommand(
        r -> new UserEntity.RefundPayment("charge-1", r));
    telegram.nextPaymentCall();
    assertTrue(refund.reply().getError().getMessage().startsWith("conflict: Telegram says"));
    assertEquals(1, kit.getState().account().balance());
    assertTrue(kit.getState().purchases().payment("charge-1").refunded());
  }

  @Test
  void cancelsTheSubscriptionsRenewalOnce() {
    var none = kit.<StatusReply<UserEntity.Summary>>runCommand(UserEntity.CancelSubscription::new);
    assertEquals("not found: the user has no Stars subscription",
        none.reply().getError().getMessage());
    Purchases.Offer monthly = buy().get(2);
    payment(new Inbound.Paid("XTR", 300, monthly.payload(), "sub-1", 0, false));
    nextText();
    var cancel = kit.<StatusReply<UserEntity.Summary>>runCommand(UserEntity.CancelSubscription::new);
    assertEquals(new FakeTelegram.PaymentCall("editUserStarSubscription", "sub-1", null),
        telegram.nextPaymentCall());
    assertTrue(cancel.reply().isSuccess());
    assertTrue(cancel.reply().getValue().payments().get(0).renewalCancelled());
    assertEquals(clock.instant().plus(Duration.ofDays(30)),
        cancel.reply().getValue().subscriptionUntil());
    var again = kit.<StatusReply<UserEntity.Summary>>runCommand(UserEntity.CancelSubscription::new);
    assertTrue(again.reply().getError().getMessage().startsWith("conflict:"));
  }

  @Test
  void paySupportListsRecentPaymentsAndForwardsToTheSupportChat() {
    payments = new EngineSettings.Payments(PAYMENTS.packs(), PAYMENTS.subscription(), -500, "");
    kit = kitWith(new EngineSettings.Billing(1, 1, false), 100);
    Purchases.Offer five = buy().get(0);
    payment(paid(five, "charge-1"));
    nextText();
    text("/paysupport");
    FakeTelegram.Sent toUser = sent.receiveMessage();
    FakeTelegram.Sent toSupport = sent.receiveMessage();
    if (toUser.chatId() != USER) {
      FakeTelegram.Sent swap = toUser;
      toUser = toSupport;
      toSupport = swap;
    }
    assertEquals(USER, toUser.chatId());
    assertTrue(toUser.text().contains("Ваш запрос передан в поддержку"), toUser.text());
    assertTrue(toUser.text().contains("21.11.2026 10:00 UTC — 50 ⭐, 5 токенов, ID charge-1"),
        toUser.text());
    assertEquals(-500, toSupport.chatId());
    assertTrue(toSupport.text().startsWith("💬 Запрос поддержки по оплатам от пользователя 42."),
        toSupport.text());
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
