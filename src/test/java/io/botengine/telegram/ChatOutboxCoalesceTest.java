package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A user flooding the bot is not answered once per message ahead of the job's results. */
class ChatOutboxCoalesceTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** One call the outbox made, completed when the test says so. */
  private record Call(String text, CompletableFuture<Long> result) {}

  /** A Bot API that records each text and holds its call until the test completes it. */
  private static final class HeldCalls implements TelegramGateway {
    final LinkedBlockingQueue<Call> calls = new LinkedBlockingQueue<>();

    @Override
    public CompletionStage<Long> send(long chatId, Outgoing message) {
      Call call = new Call(((Outgoing.Text) message).text(), new CompletableFuture<>());
      calls.add(call);
      return call.result();
    }

    @Override
    public CompletionStage<byte[]> download(String fileId, long maxBytes) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException());
    }

    String complete() throws InterruptedException {
      Call call = calls.poll(5, TimeUnit.SECONDS);
      if (call == null) {
        throw new AssertionError("no Bot API call");
      }
      call.result().complete(1L);
      return call.text();
    }
  }

  private static Fixture outbox(long chatId) {
    HeldCalls telegram = new HeldCalls();
    var deps = new ChatOutbox.Deps(telegram, null, 0, 1, 3, Duration.ofMillis(10),
        Duration.ofMillis(20), null);
    return new Fixture(testKit.spawn(ChatOutbox.create(chatId, deps, null)), telegram);
  }

  private record Fixture(
      akka.actor.typed.ActorRef<ChatOutbox.Command> outbox, HeldCalls telegram) {}

  @Test
  void queuesARepeatedNoticeOnceSoTheJobsOutputIsNotHeldBehindTheFlood() throws Exception {
    Fixture o = outbox(1);
    TestProbe<Done> outputAck = testKit.createTestProbe();
    o.outbox().tell(ChatOutbox.Send.of(Outgoing.Text.plain("analysing")));
    for (int i = 0; i < 199; i++) {
      o.outbox().tell(ChatOutbox.Send.notice(Outgoing.Text.plain("still running")));
    }
    o.outbox().tell(new ChatOutbox.Send(Outgoing.Text.plain("output 1"), "job-1", outputAck.ref()));

    assertEquals("analysing", o.telegram().complete());
    assertEquals("still running", o.telegram().complete());
    assertEquals("output 1", o.telegram().complete());
    outputAck.expectMessage(Done.getInstance());
    assertEquals(0, o.telegram().calls.size());
  }

  @Test
  void queuesTheSameNoticeAgainOnceTheEarlierOneWasSent() throws Exception {
    Fixture o = outbox(2);
    o.outbox().tell(ChatOutbox.Send.notice(Outgoing.Text.plain("still running")));
    assertEquals("still running", o.telegram().complete());
    o.outbox().tell(ChatOutbox.Send.notice(Outgoing.Text.plain("still running")));
    assertEquals("still running", o.telegram().complete());
  }

  @Test
  void answersEveryRepeatedCommandThatIsNoNotice() throws Exception {
    Fixture o = outbox(4);
    o.outbox().tell(ChatOutbox.Send.of(Outgoing.Text.plain("balance: 1")));
    o.outbox().tell(ChatOutbox.Send.of(Outgoing.Text.plain("balance: 1")));
    assertEquals("balance: 1", o.telegram().complete());
    assertEquals("balance: 1", o.telegram().complete());
  }

  @Test
  void neverCoalescesAJobsOutputs() throws Exception {
    Fixture o = outbox(3);
    TestProbe<Done> acks = testKit.createTestProbe();
    o.outbox().tell(ChatOutbox.Send.of(Outgoing.Text.plain("analysing")));
    o.outbox().tell(new ChatOutbox.Send(Outgoing.Text.plain("same"), "job-1", acks.ref()));
    o.outbox().tell(new ChatOutbox.Send(Outgoing.Text.plain("same"), "job-1", acks.ref()));
    assertEquals("analysing", o.telegram().complete());
    assertEquals("same", o.telegram().complete());
    assertEquals("same", o.telegram().complete());
    acks.expectMessage(Done.getInstance());
    acks.expectMessage(Done.getInstance());
  }
}
