package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Before its user actor stops (hand-over, passivation) the outbox sends what it holds; a permit of
 * the bot-wide limiter goes back when its call ends, even after the outbox stopped.
 */
class ChatOutboxDrainTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A Bot API whose calls complete only when the test says so. */
  private static final class HeldCalls implements TelegramGateway {
    final LinkedBlockingQueue<CompletableFuture<Long>> calls = new LinkedBlockingQueue<>();

    @Override
    public CompletionStage<Long> send(long chatId, Outgoing message) {
      CompletableFuture<Long> call = new CompletableFuture<>();
      calls.add(call);
      return call;
    }

    @Override
    public CompletionStage<byte[]> download(String fileId, long maxBytes) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException());
    }

    CompletableFuture<Long> next() throws InterruptedException {
      CompletableFuture<Long> call = calls.poll(5, TimeUnit.SECONDS);
      if (call == null) {
        throw new AssertionError("no Bot API call");
      }
      return call;
    }
  }

  private static ChatOutbox.Deps deps(TelegramGateway gateway) {
    return new ChatOutbox.Deps(gateway, null, 0, 1, 3, Duration.ofMillis(10),
        Duration.ofMillis(20), null);
  }

  @Test
  void answersDrainOnlyOnceEveryQueuedMessageWasSent() throws InterruptedException {
    HeldCalls telegram = new HeldCalls();
    var outbox = testKit.spawn(ChatOutbox.create(1, deps(telegram), null));
    TestProbe<ChatOutbox.Drained> drained = testKit.createTestProbe();
    outbox.tell(ChatOutbox.Send.of(Outgoing.Text.plain("first")));
    outbox.tell(ChatOutbox.Send.of(Outgoing.Text.plain("second")));
    outbox.tell(new ChatOutbox.Drain(drained.ref()));

    telegram.next().complete(1L);
    drained.expectNoMessage(Duration.ofMillis(200));
    telegram.next().complete(2L);
    assertEquals(ChatOutbox.Drained.INSTANCE, drained.receiveMessage());
  }

  @Test
  void answersDrainAtOnceWhenIdle() {
    var outbox = testKit.spawn(ChatOutbox.create(2, deps(new HeldCalls()), null));
    TestProbe<ChatOutbox.Drained> drained = testKit.createTestProbe();
    outbox.tell(new ChatOutbox.Drain(drained.ref()));
    assertEquals(ChatOutbox.Drained.INSTANCE, drained.receiveMessage());
  }

  @Test
  void returnsTheLimitersPermitWhenItsCallEndsEvenAfterTheOutboxStopped()
      throws InterruptedException {
    HeldCalls telegram = new HeldCalls();
    TestProbe<RateLimiter.Command> limiter = testKit.createTestProbe();
    var outbox = testKit.spawn(ChatOutbox.create(3,
        new ChatOutbox.Deps(telegram, limiter.ref(), 0, 1, 3, Duration.ofMillis(10),
            Duration.ofMillis(20), null), null));
    outbox.tell(ChatOutbox.Send.of(Outgoing.Text.plain("hello")));
    RateLimiter.Acquire acquire = limiter.expectMessageClass(RateLimiter.Acquire.class);
    acquire.replyTo().tell(new RateLimiter.Permit(7));
    CompletableFuture<Long> call = telegram.next();

    testKit.stop(outbox);
    limiter.expectNoMessage(Duration.ofMillis(200));
    call.complete(1L);
    assertEquals(new RateLimiter.Release(7), limiter.receiveMessage());
  }
}
