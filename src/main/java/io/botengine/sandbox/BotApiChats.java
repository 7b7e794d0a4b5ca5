package io.botengine.sandbox;

import static io.botengine.sandbox.BotApiReplies.ok;

import akka.http.javadsl.model.HttpResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Json;
import io.botengine.sandbox.BotApiEmulator.Invoice;
import io.botengine.sandbox.BotApiEmulator.Sent;
import io.botengine.sandbox.BotApiFiles.StoredFile;
import io.botengine.sandbox.BotApiParams.Failure;
import io.botengine.sandbox.BotApiParams.FilePart;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Bot API emulator's chats: the messages users and the bot exchanged, numbered per chat as
 * Telegram does, the bot's calls that change them (send, edit, delete, chat action) and the record
 * of those calls ({@link Sent}) that tests and the sandbox read. Guarded by the emulator's lock,
 * which is notified on every new {@link Sent}.
 */
final class BotApiChats {
  private static final Logger log = LoggerFactory.getLogger(BotApiEmulator.class);

  private static final long UPLOAD_LIMIT = 50L * 1024 * 1024;
  private static final int MAX_TEXT = 4096;
  private static final int MAX_CAPTION = 1024;
  private static final long DEFAULT_BOT_ID = 1_000_000L;
  private static final String BOT_NAME = "Emulated Bot";
  private static final String BOT_USERNAME = "emulated_bot";
  private static final Set<String> CHAT_ACTIONS =
      Set.of(
          "typing",
          "upload_photo",
          "record_video",
          "upload_video",
          "record_voice",
          "upload_voice",
          "upload_document",
          "choose_sticker",
          "find_location",
          "record_video_note",
          "upload_video_note");

  private static final List<String> BUTTON_ACTIONS =
      List.of(
          "url",
          "callback_data",
          "web_app",
          "login_url",
          "switch_inline_query",
          "switch_inline_query_current_chat",
          "switch_inline_query_chosen_chat",
          "copy_text",
          "callback_game",
          "pay");
  private static final Pattern LINK = Pattern.compile("(?i)(https?|tg)://\\S+");

  private static final class ChatMessage {
    final boolean fromBot;
    String text;
    String parseMode;
    String replyMarkup;
    boolean deleted;

    ChatMessage(boolean fromBot, String text, String parseMode, String replyMarkup) {
      this.fromBot = fromBot;
      this.text = text;
      this.parseMode = parseMode;
      this.replyMarkup = replyMarkup;
    }
  }

  private final Object lock;
  private final BotApiFiles files;
  private final long botId;
  private final Function<String, Invoice> links;
  private final List<Consumer<Sent>> listeners = new CopyOnWriteArrayList<>();
  private final Map<Long, Long> lastMessageIds = new HashMap<>();
  private final Map<Long, Map<Long, ChatMessage>> chats = new HashMap<>();
  private final List<Sent> sent = new ArrayList<>();

  BotApiChats(Object lock, BotApiFiles files, String token, Function<String, Invoice> links) {
    this.lock = lock;
    this.files = files;
    this.botId = botIdOf(token);
    this.links = links;
  }

  /** Every Sent so far, in arrival order. */
  List<Sent> sent() {
    synchronized (lock) {
      return List.copyOf(sent);
    }
  }

  void onSent(Consumer<Sent> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Holds lock. A user's message {@code messageId}: the chat exists from now on. */
  void userWrote(long userId, long messageId, String text) {
    chats
        .computeIfAbsent(userId, k -> new HashMap<>())
        .put(messageId, new ChatMessage(false, text, null, null));
  }

  HttpResponse sendMessage(BotApiParams p) {
    long chatId = chatId(p);
    String text = p.text("text");
    String parseMode = p.text("parse_mode");
    String plain = messageText(text, parseMode);
    JsonNode keyboard = replyMarkup(p);
    String markup = keyboard == null ? null : keyboard.toString();
    Invoice offer = linkedInvoice(keyboard);
    ObjectNode message;
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      long id = nextMessageId(chatId);
      chats.get(chatId).put(id, new ChatMessage(true, text, parseMode, markup));
      message = botMessage(chatId, id);
      message.put("text", plain);
      if (keyboard != null) {
        message.set("reply_markup", keyboard);
      }
      s =
          new Sent(
              id,
              "sendMessage",
              chatId,
              text,
              parseMode,
              null,
              null,
              null,
              Instant.now(),
              markup,
              offer == null ? null : offer.offeredTo(chatId, id, Instant.now()));
      record(s);
    }
    announce(s);
    return ok(message);
  }

  HttpResponse sendDocument(BotApiParams p) {
    long chatId = chatId(p);
    String caption = p.text("caption");
    String parseMode = p.text("parse_mode");
    String plainCaption = caption == null ? null : parse(caption, parseMode);
    if (plainCaption != null
        && plainCaption.codePointCount(0, plainCaption.length()) > MAX_CAPTION) {
      throw Failure.badRequest("message caption is too long");
    }
    JsonNode keyboard = replyMarkup(p);
    String replyMarkup = keyboard == null ? null : keyboard.toString();
    FilePart part = p.file("document");
    String fileName;
    String mimeType;
    byte[] bytes;
    if (part != null) {
      fileName = part.fileName();
      mimeType = BotApiFiles.mimeTypeOf(fileName);
      bytes = part.bytes();
    } else {
      String reference = p.text("document");
      if (reference == null || reference.isBlank()) {
        throw Failure.badRequest("there is no document in the request");
      }
      StoredFile known = files.byId(reference);
      if (known == null) {
        throw Failure.badRequest("wrong file identifier/HTTP URL specified");
      }
      fileName = known.name();
      mimeType = known.mimeType();
      bytes = known.bytes();
    }
    if (bytes.length == 0) {
      throw Failure.badRequest("file must be non-empty");
    }
    if (bytes.length > UPLOAD_LIMIT) {
      throw new Failure(413, "Request Entity Too Large", null);
    }
    ObjectNode message;
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      StoredFile file = files.store(fileName, mimeType, bytes, bytes.length, "documents");
      long id = nextMessageId(chatId);
      chats.get(chatId).put(id, new ChatMessage(true, null, null, replyMarkup));
      message = botMessage(chatId, id);
      message.set("document", BotApiFiles.documentJson(file));
      if (plainCaption != null && !plainCaption.isEmpty()) {
        message.put("caption", plainCaption);
      }
      s =
          new Sent(
              id,
              "sendDocument",
              chatId,
              null,
              parseMode,
              fileName,
              bytes,
              caption,
              Instant.now(),
              replyMarkup,
              null);
      record(s);
    }
    announce(s);
    return ok(message);
  }

  HttpResponse editMessageText(BotApiParams p) {
    if (p.text("inline_message_id") != null) {
      throw Failure.badRequest("MESSAGE_ID_INVALID");
    }
    long chatId = chatId(p);
    long messageId = p.longValue("message_id", 0);
    String text = p.text("text");
    String parseMode = p.text("parse_mode");
    JsonNode keyboard = replyMarkup(p);
    String replyMarkup = keyboard == null ? null : keyboard.toString();
    String plain = messageText(text, parseMode);
    ObjectNode message;
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      ChatMessage current = chats.get(chatId).get(messageId);
      if (current == null || current.deleted) {
        throw Failure.badRequest("message to edit not found");
      }
      if (!current.fromBot) {
        throw Failure.badRequest("message can't be edited");
      }
      if (current.text == null) {
        throw Failure.badRequest("there is no text in the message to edit");
      }
      if (current.text.equals(text)
          && Objects.equals(current.parseMode, parseMode)
          && Objects.equals(current.replyMarkup, replyMarkup)) {
        throw Failure.badRequest(
            "message is not modified: specified new message content and reply markup are"
                + " exactly the same as a current content and reply markup of the message");
      }
      current.text = text;
      current.parseMode = parseMode;
      current.replyMarkup = replyMarkup;
      message = botMessage(chatId, messageId);
      message.put("edit_date", Instant.now().getEpochSecond());
      message.put("text", plain);
      s =
          new Sent(
              messageId,
              "editMessageText",
              chatId,
              text,
              parseMode,
              null,
              null,
              null,
              Instant.now(),
              replyMarkup,
              null);
      record(s);
    }
    announce(s);
    return ok(message);
  }

  /**
   * sendMessageDraft: a private chat only (a group's negative id answers TEXTDRAFT_PEER_INVALID),
   * a non-zero {@code draft_id}, a text of 1-4096 characters. Recorded as a {@link Sent} whose
   * method is sendMessageDraft and whose message id is the draft id; nothing is stored in the chat
   * (a draft is ephemeral).
   */
  HttpResponse sendMessageDraft(BotApiParams p) {
    long chatId = chatId(p);
    if (chatId < 0) {
      throw Failure.badRequest("TEXTDRAFT_PEER_INVALID");
    }
    long draftId = p.longValue("draft_id", 0);
    if (draftId == 0) {
      throw Failure.badRequest("DRAFT_ID_INVALID");
    }
    String text = p.text("text");
    String parseMode = p.text("parse_mode");
    messageText(text, parseMode);
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      s = Sent.call(draftId, "sendMessageDraft", chatId, text, parseMode);
      record(s);
    }
    announce(s);
    return ok(BooleanNode.TRUE);
  }

  HttpResponse deleteMessage(BotApiParams p) {
    long chatId = chatId(p);
    long messageId = p.longValue("message_id", 0);
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      ChatMessage current = chats.get(chatId).get(messageId);
      if (current == null || current.deleted) {
        throw Failure.badRequest("message to delete not found");
      }
      current.deleted = true;
      s = Sent.call(messageId, "deleteMessage", chatId, null, null);
      record(s);
    }
    announce(s);
    return ok(BooleanNode.TRUE);
  }

  HttpResponse sendChatAction(BotApiParams p) {
    long chatId = chatId(p);
    String action = p.text("action");
    if (action == null || !CHAT_ACTIONS.contains(action)) {
      throw Failure.badRequest("wrong parameter action in request");
    }
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      s = Sent.call(0, "sendChatAction", chatId, action, null);
      record(s);
    }
    announce(s);
    return ok(BooleanNode.TRUE);
  }

  /**
   * sendInvoice, once the payments section has checked the invoice: the message showing {@code
   * offer} ({@code invoice}: its Bot API object) in the chat of {@code p}'s chat_id.
   */
  HttpResponse sendInvoice(BotApiParams p, Invoice offer, ObjectNode invoice) {
    long chatId = chatId(p);
    JsonNode keyboard = replyMarkup(p);
    if (keyboard != null && !keyboard.has("inline_keyboard")) {
      throw Failure.badRequest("REPLY_MARKUP_INVALID: an invoice takes an inline keyboard only");
    }
    String markup = keyboard == null ? null : keyboard.toString();
    ObjectNode message;
    Sent s;
    synchronized (lock) {
      requireChat(chatId);
      long id = nextMessageId(chatId);
      chats.get(chatId).put(id, new ChatMessage(true, null, null, markup));
      message = botMessage(chatId, id);
      message.set("invoice", invoice);
      if (keyboard != null) {
        message.set("reply_markup", keyboard);
      }
      Instant now = Instant.now();
      s =
          new Sent(
              id,
              "sendInvoice",
              chatId,
              null,
              null,
              null,
              null,
              null,
              now,
              markup,
              offer.offeredTo(chatId, id, now));
      record(s);
    }
    announce(s);
    return ok(message);
  }

  /**
   * The reply_markup of a call, or null; 400 for what Telegram would not parse: anything but an
   * object, an inline keyboard that is not rows of buttons with a text and an action.
   */
  private static JsonNode replyMarkup(BotApiParams p) {
    JsonNode markup = p.json("reply_markup");
    if (markup == null) {
      return null;
    }
    if (!markup.isObject()) {
      throw Failure.badRequest("can't parse reply keyboard markup JSON object");
    }
    JsonNode rows = markup.get("inline_keyboard");
    if (rows == null) {
      return markup;
    }
    if (!rows.isArray()) {
      throw Failure.badRequest(
          "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array");
    }
    for (JsonNode row : rows) {
      if (!row.isArray()) {
        throw Failure.badRequest(
            "can't parse inline keyboard button: InlineKeyboardButton row must be an Array");
      }
      for (JsonNode button : row) {
        if (!button.isObject() || button.path("text").asText("").isEmpty()) {
          throw Failure.badRequest("can't parse inline keyboard button: Text must be non-empty");
        }
        boolean action = false;
        for (String kind : BUTTON_ACTIONS) {
          action |= button.hasNonNull(kind);
        }
        if (!action) {
          throw Failure.badRequest(
              "can't parse inline keyboard button: Text buttons are unallowed in the inline"
                  + " keyboard");
        }
        if (button.hasNonNull("url") && !LINK.matcher(button.get("url").asText()).matches()) {
          throw Failure.badRequest("BUTTON_URL_INVALID");
        }
      }
    }
    return markup;
  }

  /** The invoice behind the first inline URL button that is one of the emulator's links. */
  private Invoice linkedInvoice(JsonNode markup) {
    if (markup == null) {
      return null;
    }
    for (JsonNode row : markup.path("inline_keyboard")) {
      for (JsonNode button : row) {
        Invoice invoice = links.apply(button.path("url").asText(""));
        if (invoice != null) {
          return invoice;
        }
      }
    }
    return null;
  }

  private static long botIdOf(String token) {
    int colon = token.indexOf(':');
    try {
      return colon > 0 ? Long.parseLong(token.substring(0, colon)) : DEFAULT_BOT_ID;
    } catch (NumberFormatException e) {
      return DEFAULT_BOT_ID;
    }
  }

  ObjectNode botUser() {
    ObjectNode user = Json.MAPPER.createObjectNode();
    user.put("id", botId);
    user.put("is_bot", true);
    user.put("first_name", BOT_NAME);
    user.put("username", BOT_USERNAME);
    user.put("can_join_groups", true);
    user.put("can_read_all_group_messages", false);
    user.put("supports_inline_queries", false);
    user.put("can_connect_to_business", false);
    user.put("has_main_web_app", false);
    return user;
  }

  ObjectNode privateChat(long chatId) {
    ObjectNode chat = Json.MAPPER.createObjectNode();
    chat.put("id", chatId);
    chat.put("first_name", "User " + chatId);
    chat.put("type", "private");
    return chat;
  }

  private ObjectNode botMessage(long chatId, long messageId) {
    ObjectNode message = Json.MAPPER.createObjectNode();
    message.put("message_id", messageId);
    ObjectNode from = message.putObject("from");
    from.put("id", botId);
    from.put("is_bot", true);
    from.put("first_name", BOT_NAME);
    from.put("username", BOT_USERNAME);
    message.set("chat", privateChat(chatId));
    message.put("date", Instant.now().getEpochSecond());
    return message;
  }

  private static long chatId(BotApiParams p) {
    String raw = p.text("chat_id");
    if (raw == null || raw.isBlank()) {
      throw Failure.badRequest("chat_id is empty");
    }
    try {
      return Long.parseLong(raw.trim());
    } catch (NumberFormatException e) {
      throw Failure.badRequest("chat not found");
    }
  }

  /** Holds lock. A chat exists once its user wrote to the bot, as in Telegram. */
  private void requireChat(long chatId) {
    if (!chats.containsKey(chatId)) {
      throw Failure.badRequest("chat not found");
    }
  }

  /** Holds lock. Private chats number user and bot messages in one sequence. */
  long nextMessageId(long chatId) {
    return lastMessageIds.merge(chatId, 1L, Long::sum);
  }

  private static String parse(String text, String parseMode) {
    try {
      return BotApiMarkup.plainText(text, parseMode);
    } catch (BotApiMarkup.ParseError e) {
      throw new Failure(400, e.getMessage(), null);
    }
  }

  private static String messageText(String text, String parseMode) {
    String plain = parse(text == null ? "" : text, parseMode);
    if (plain.isBlank()) {
      throw Failure.badRequest("message text is empty");
    }
    if (plain.codePointCount(0, plain.length()) > MAX_TEXT) {
      throw Failure.badRequest("message is too long");
    }
    return plain;
  }

  /** Holds lock. */
  List<Sent> sentToLocked(long chatId) {
    return sent.stream().filter(s -> s.chatId() == chatId).toList();
  }

  /** Holds lock. */
  private void record(Sent s) {
    sent.add(s);
    lock.notifyAll();
  }

  private void announce(Sent s) {
    for (Consumer<Sent> listener : listeners) {
      try {
        listener.accept(s);
      } catch (RuntimeException e) {
        log.warn("Sent listener failed", e);
      }
    }
  }
}
