package io.botengine.sandbox;

import akka.NotUsed;
import akka.japi.Pair;
import akka.stream.BoundedSourceQueue;
import akka.stream.Materializer;
import akka.stream.QueueOfferResult;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Json;
import io.botengine.sandbox.BotApiEmulator.Invoice;
import io.botengine.sandbox.BotApiEmulator.Payment;
import io.botengine.sandbox.BotApiEmulator.Sent;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;

/**
 * What each sandbox chat shows, in order, for the chat page: the user's own messages (added by the
 * page's API before they reach the Bot API emulator), every bot call the emulator recorded (fed
 * by {@link BotApiEmulator#onSent}) and the user's payments (fed by {@link
 * BotApiEmulator#onPayment}). Each entry gets a sequence number per chat; a page subscribes
 * after the last number it saw and gets the rest of the history, then every new entry live, with no
 * gap and no repeat.
 *
 * <p>Thread-safe and never blocking: entries are appended under a per-chat lock held for a few list
 * operations, and handed to subscribers through bounded stream queues. A subscriber that falls
 * {@link #BUFFER} entries behind is failed, and its page reconnects from where it was.
 */
final class ChatFeed {
  /** Entries a subscriber may lag behind before it is cut off. */
  static final int BUFFER = 256;

  /** Entries kept per chat for pages that connect later. */
  static final int KEPT = 2000;


  /** One thing that happened in a chat; {@code json} is what the page renders. */
  record Entry(long seq, String json) {}

  /** A subscriber fell too far behind; its page reconnects and resumes. */
  static final class TooSlow extends RuntimeException {
    TooSlow() {
      super("chat page fell " + BUFFER + " entries behind", null, false, false);
    }
  }

  private static final class Chat {
    final Deque<Entry> entries = new ArrayDeque<>();
    final Set<BoundedSourceQueue<Entry>> subscribers = new HashSet<>();
    long lastSeq;
  }

  private final Map<Long, Chat> chats = new ConcurrentHashMap<>();
  private volatile BiConsumer<Long, Entry> forward = (chat, entry) -> {};
  private final String epoch =
      Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);

  /** Tells this feed from an earlier one (of a previous run), whose sequence numbers differ. */
  String epoch() {
    return epoch;
  }

  /**
   * Records a bot call; other calls than those that change a chat are ignored. A message's inline
   * keyboard goes along as {@code buttons} (rows of {text, url?, pay?}; {@code pay}: the button
   * opens the invoice the message offers, described in {@code offer}).
   */
  void botSent(Sent s) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    switch (s.method()) {
      case "sendMessage" -> n.put("kind", "message").put("text", s.text());
      case "sendDocument" ->
          n.put("kind", "document")
              .put("fileName", s.fileName())
              .put("size", s.document().length)
              .put("caption", s.caption());
      case "sendInvoice" -> n.put("kind", "invoice");
      case "editMessageText" -> n.put("kind", "edit").put("text", s.text());
      case "deleteMessage" -> n.put("kind", "delete");
      case "sendChatAction" -> n.put("kind", "action").put("action", s.text());
      case "sendMessageDraft" -> n.put("kind", "draft").put("text", s.text());
      default -> {
        return;
      }
    }
    n.put("messageId", s.messageId()).put("parseMode", s.parseMode());
    Invoice invoice = s.invoice();
    if (invoice != null) {
      n.putObject("offer")
          .put("title", invoice.title())
          .put("description", invoice.description())
          .put("payload", invoice.payload())
          .put("stars", invoice.stars())
          .put("subscription", invoice.subscription());
    }
    ArrayNode buttons = buttons(s.replyMarkup(), invoice);
    if (buttons != null) {
      n.set("buttons", buttons);
    }
    publish(s.chatId(), n, s.at());
  }

  /** The inline keyboard of a reply_markup as the page draws it, or null if it has none. */
  private static ArrayNode buttons(String replyMarkup, Invoice invoice) {
    if (replyMarkup == null) {
      return null;
    }
    JsonNode rows;
    try {
      rows = Json.MAPPER.readTree(replyMarkup).path("inline_keyboard");
    } catch (IOException e) {
      return null;
    }
    if (!rows.isArray() || rows.isEmpty()) {
      return null;
    }
    ArrayNode drawn = Json.MAPPER.createArrayNode();
    for (JsonNode row : rows) {
      ArrayNode line = drawn.addArray();
      for (JsonNode button : row) {
        ObjectNode b = line.addObject().put("text", button.path("text").asText(""));
        if (button.hasNonNull("url")) {
          String url = button.get("url").asText();
          b.put("url", url);
          if (invoice != null && url.equals(invoice.link())) {
            b.put("pay", true);
          }
        }
      }
    }
    return drawn;
  }

  /** Records a payment the user made (a first payment or a renewal; not one delivered again). */
  void userPaid(Payment p) {
    if (p.redelivered()) {
      return;
    }
    ObjectNode n =
        Json.MAPPER.createObjectNode()
            .put("kind", "payment")
            .put("title", p.title())
            .put("stars", p.stars())
            .put("subscription", p.subscription())
            .put("renewal", p.subscription() && !p.firstRecurring());
    if (p.subscriptionExpiration() != null) {
      n.put("until", p.subscriptionExpiration().toEpochMilli());
    }
    publish(p.userId(), n, p.at());
  }

  /** Records a text the user typed on the page. */
  void userText(long chatId, String text) {
    publish(
        chatId, Json.MAPPER.createObjectNode().put("kind", "user_text").put("text", text), Instant.now());
  }

  /** Records a file the user attached on the page. */
  void userDocument(long chatId, String fileName, long size) {
    publish(
        chatId,
        Json.MAPPER.createObjectNode()
            .put("kind", "user_document")
            .put("fileName", fileName)
            .put("size", size),
        Instant.now());
  }

  /**
   * Hands every new entry, in order per chat, to {@code forward} too (the sandbox publishes them
   * as {@code chat} events of the engine's web event API).
   */
  void forwardTo(BiConsumer<Long, Entry> forward) {
    this.forward = forward;
  }

  /** The entries of a chat still kept, after {@code afterSeq}. */
  List<Entry> history(long chatId, long afterSeq) {
    Chat chat = chat(chatId);
    synchronized (chat) {
      return chat.entries.stream().filter(e -> e.seq() > afterSeq).toList();
    }
  }

  /**
   * The entries of a chat after {@code afterSeq} (0: all that are kept), then each new one as it
   * comes. The source must be run once; it never completes on its own.
   */
  Source<Entry, NotUsed> subscribe(long chatId, long afterSeq, Materializer materializer) {
    Pair<BoundedSourceQueue<Entry>, Source<Entry, NotUsed>> live =
        Source.<Entry>queue(BUFFER).preMaterialize(materializer);
    BoundedSourceQueue<Entry> queue = live.first();
    Chat chat = chat(chatId);
    List<Entry> history = new ArrayList<>();
    synchronized (chat) {
      for (Entry e : chat.entries) {
        if (e.seq() > afterSeq) {
          history.add(e);
        }
      }
      chat.subscribers.add(queue);
    }
    Source<Entry, NotUsed> rest =
        live.second()
            .watchTermination(
                (notUsed, done) -> {
                  done.whenComplete((d, error) -> unsubscribe(chat, queue));
                  return notUsed;
                });
    return Source.from(history).concat(rest);
  }

  private void publish(long chatId, ObjectNode n, Instant at) {
    Chat chat = chat(chatId);
    List<BoundedSourceQueue<Entry>> slow = new ArrayList<>();
    synchronized (chat) {
      long seq = ++chat.lastSeq;
      Entry entry = new Entry(seq, n.put("seq", seq).put("at", at.toEpochMilli()).toString());
      chat.entries.addLast(entry);
      forward.accept(chatId, entry);
      if (chat.entries.size() > KEPT) {
        chat.entries.removeFirst();
      }
      chat.subscribers.removeIf(
          queue -> {
            QueueOfferResult result = queue.offer(entry);
            if (result == QueueOfferResult.dropped()) {
              slow.add(queue);
            }
            return !result.isEnqueued();
          });
    }
    slow.forEach(ChatFeed::cutOff);
  }

  private static void cutOff(BoundedSourceQueue<Entry> queue) {
    try {
      queue.fail(new TooSlow());
    } catch (IllegalStateException alreadyClosed) {
      // the page went away in the meantime
    }
  }

  private void unsubscribe(Chat chat, BoundedSourceQueue<Entry> queue) {
    synchronized (chat) {
      chat.subscribers.remove(queue);
    }
  }

  private Chat chat(long chatId) {
    return chats.computeIfAbsent(chatId, id -> new Chat());
  }
}
