package io.botengine.sandbox;

import static io.botengine.sandbox.BotApiReplies.failure;
import static io.botengine.sandbox.BotApiReplies.ok;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Json;
import io.botengine.sandbox.BotApiParams.Failure;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The Bot API emulator's files: those users send (documents, photos) and those the bot sends,
 * by {@code file_id} for getFile and by path for downloads ({@code /file/bot<token>/<path>}).
 * Guarded by the emulator's lock.
 */
final class BotApiFiles {
  private static final long DOWNLOAD_LIMIT = 20L * 1024 * 1024;

  /** A file the emulator holds; {@code reportedSize} is what getFile and updates say. */
  record StoredFile(
      String fileId,
      String uniqueId,
      String path,
      String name,
      String mimeType,
      byte[] bytes,
      long reportedSize) {}

  private final Object lock;
  private final String token;
  private final Map<String, StoredFile> filesById = new HashMap<>();
  private final Map<String, StoredFile> filesByPath = new HashMap<>();
  private long fileCounter;

  BotApiFiles(Object lock, String token) {
    this.lock = lock;
    this.token = token;
  }

  /** The file sent or received under {@code fileId}, or null. */
  StoredFile byId(String fileId) {
    synchronized (lock) {
      return fileId == null ? null : filesById.get(fileId);
    }
  }

  HttpResponse getFile(BotApiParams p) {
    StoredFile file = byId(p.text("file_id"));
    if (file == null) {
      throw Failure.badRequest("invalid file_id");
    }
    if (file.reportedSize() > DOWNLOAD_LIMIT) {
      throw Failure.badRequest("file is too big");
    }
    ObjectNode result = Json.MAPPER.createObjectNode();
    result.put("file_id", file.fileId());
    result.put("file_unique_id", file.uniqueId());
    result.put("file_size", file.reportedSize());
    result.put("file_path", file.path());
    return ok(result);
  }

  HttpResponse download(String tokenAndPath) {
    int slash = tokenAndPath.indexOf('/');
    if (slash < 0 || !tokenAndPath.substring(0, slash).equals(token)) {
      return failure(401, "Unauthorized", null);
    }
    StoredFile file;
    synchronized (lock) {
      file = filesByPath.get(tokenAndPath.substring(slash + 1));
    }
    if (file == null) {
      return failure(404, "Not Found", null);
    }
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_OCTET_STREAM, file.bytes());
  }

  /** Keeps a file under a new id and path in {@code folder} ("documents" or "photos"). */
  StoredFile store(String name, String mimeType, byte[] bytes, long reportedSize, String folder) {
    synchronized (lock) {
      long n = ++fileCounter;
      String prefix = folder.equals("photos") ? "AgACAgIAAxkBAAI" : "BQACAgIAAxkBAAI";
      String extension = "";
      if (name != null && name.lastIndexOf('.') > 0) {
        extension = name.substring(name.lastIndexOf('.')).toLowerCase(Locale.ROOT);
      } else if (folder.equals("photos")) {
        extension = ".jpg";
      }
      StoredFile file =
          new StoredFile(
              String.format("%s%08dZmlsZQ", prefix, n),
              String.format("AgAD%06d", n),
              folder + "/file_" + n + extension,
              name,
              mimeType,
              bytes,
              reportedSize);
      filesById.put(file.fileId(), file);
      filesByPath.put(file.path(), file);
      return file;
    }
  }

  /** A message's {@code document} object. */
  static ObjectNode documentJson(StoredFile file) {
    ObjectNode document = Json.MAPPER.createObjectNode();
    if (file.name() != null) {
      document.put("file_name", file.name());
    }
    if (file.mimeType() != null) {
      document.put("mime_type", file.mimeType());
    }
    document.put("file_id", file.fileId());
    document.put("file_unique_id", file.uniqueId());
    document.put("file_size", file.reportedSize());
    return document;
  }

  /** The MIME type Telegram reports for a file name. */
  static String mimeTypeOf(String fileName) {
    String lower = fileName == null ? "" : fileName.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".pdf")) {
      return "application/pdf";
    } else if (lower.endsWith(".txt")) {
      return "text/plain";
    } else if (lower.endsWith(".md")) {
      return "text/markdown";
    } else if (lower.endsWith(".json")) {
      return "application/json";
    } else if (lower.endsWith(".html") || lower.endsWith(".htm")) {
      return "text/html";
    } else if (lower.endsWith(".docx")) {
      return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    } else if (lower.endsWith(".doc")) {
      return "application/msword";
    }
    return "application/octet-stream";
  }
}
