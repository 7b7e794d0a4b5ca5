package io.botengine.testing;

import akka.actor.typed.ActorRef;
import io.botengine.telegram.Outgoing;
import io.botengine.telegram.TelegramGateway;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link TelegramGateway} below the actors under test: every send is reported to a probe and
 * succeeds; downloads serve the files registered with {@link #file}.
 */
public final class FakeTelegram implements TelegramGateway {
  /** One message the bot sent. */
  public record Sent(long chatId, Outgoing message) {
    public String text() {
      return message instanceof Outgoing.Text t ? t.text() : null;
    }
  }

  /** A download that was asked for. */
  public record Download(String fileId) {}

  private final ActorRef<Sent> sent;
  private final ActorRef<Download> downloads;
  private final Map<String, byte[]> files = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final Set<Long> refused = ConcurrentHashMap.newKeySet();

  public FakeTelegram(ActorRef<Sent> sent, ActorRef<Download> downloads) {
    this.sent = sent;
    this.downloads = downloads;
  }

  public void file(String fileId, byte[] content) {
    files.put(fileId, content);
  }

  /** From now on every send to {@code chatId} fails as Telegram's 403 "bot was kicked". */
  public void refuse(long chatId) {
    refused.add(chatId);
  }

  @Override
  public CompletionStage<Long> send(long chatId, Outgoing message) {
    if (refused.contains(chatId)) {
      return CompletableFuture.failedFuture(
          new Failure(403, "Forbidden: bot was kicked from the group chat", null));
    }
    sent.tell(new Sent(chatId, message));
    return CompletableFuture.completedFuture(ids.incrementAndGet());
  }

  @Override
  public CompletionStage<byte[]> download(String fileId, long maxBytes) {
    downloads.tell(new Download(fileId));
    byte[] content = files.get(fileId);
    return content == null
        ? CompletableFuture.failedFuture(new Failure(400, "Bad Request: file not found", null))
        : CompletableFuture.completedFuture(content);
  }
}
