package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A message draft is a preview: a chat that refuses drafts is reported to the sender, and a draft
 * that fails is neither retried nor worth a notice to the user.
 */
class ChatOutboxDraftTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final String NOTICE = "could not deliver";

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A Bot API that fails every draft with {@code code} and sends everything else. */
  private static final class FailingDrafts implements TelegramGateway {
    final List<Outgoing> calls = new CopyOnWriteArrayList<>();
    final int code;
    final String description;

    FailingDrafts(int code, String description) {
      this.code = code;
      this.description = description;
    }

    @Override
    public CompletionStage<Long> send(long chatId, Outgoing message) {
      calls.add(message);
      if (message instanceof Outgoing.Draft) {
        return CompletableFuture.failedFuture(new Failure(code, description, null));
      }
      return CompletableFuture.completedFuture(5L);
    }

    @Override
    public CompletionStage<byte[]> download(String fileId, long maxBytes) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException());
    }
  }

  private static long sendDraftThenText(FailingDrafts telegram) {
    var deps = new ChatOutbox.Deps(telegram, null, 0, 1, 3, Duration.ofMillis(10),
        Duration.ofMillis(20), NOTICE);
    var outbox = testKit.spawn(ChatOutbox.create(42, deps, null));
    TestProbe<Long> draftResult = testKit.createTestProbe();
    TestProbe<Long> textId = testKit.createTestProbe();
    outbox.tell(new ChatOutbox.Send(new Outgoing.Draft(7, "Пишу"), "job-1", null,
        draftResult.ref()));
    outbox.tell(new ChatOutbox.Send(Outgoing.Text.plain("Ответ"), "job-1", null, textId.ref()));
    long result = draftResult.receiveMessage();
    assertEquals(5L, textId.receiveMessage());
    return result;
  }

  @Test
  void reportsAChatThatRefusesDraftsAndSendsWhatFollows() {
    FailingDrafts telegram = new FailingDrafts(400, "Bad Request: TEXTDRAFT_PEER_INVALID");
    assertEquals(ChatOutbox.DRAFTS_REFUSED, sendDraftThenText(telegram));
    assertEquals(2, telegram.calls.size(), "the draft once, then the text: " + telegram.calls);

    FailingDrafts noMethod = new FailingDrafts(404, "Not Found");
    assertEquals(ChatOutbox.DRAFTS_REFUSED, sendDraftThenText(noMethod));
  }

  @Test
  void neverRetriesADraftNorTellsTheUserItFailed() {
    FailingDrafts telegram = new FailingDrafts(502, "Bad Gateway");
    assertEquals(ChatOutbox.NOT_SENT, sendDraftThenText(telegram));
    assertEquals(2, telegram.calls.size(), telegram.calls.toString());
    assertInstanceOf(Outgoing.Draft.class, telegram.calls.get(0));
    assertEquals(Outgoing.Text.plain("Ответ"), telegram.calls.get(1), "no notice in between");
  }
}
