package io.botengine.sandbox;

import akka.actor.ClassicActorSystemProvider;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.MediaType;
import akka.http.javadsl.model.Multipart;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.stream.Materializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The parameters of one Bot API call, merged from the query string and a JSON, form-urlencoded or
 * multipart body, as the real Bot API accepts them.
 */
final class BotApiParams {
  private static final long READ_TIMEOUT_MILLIS = 30_000;
  private static final String ATTACH = "attach://";

  /** An uploaded file part of a multipart request. */
  record FilePart(String fileName, byte[] bytes) {}

  /** A Bot API error answer: HTTP status and {@code error_code} are the same number. */
  static final class Failure extends RuntimeException {
    final int code;
    final Integer retryAfter;

    Failure(int code, String description, Integer retryAfter) {
      super(description, null, false, false);
      this.code = code;
      this.retryAfter = retryAfter;
    }

    static Failure badRequest(String detail) {
      return new Failure(400, "Bad Request: " + detail, null);
    }
  }

  private final ObjectMapper mapper;
  private final Map<String, JsonNode> values = new LinkedHashMap<>();
  private final Map<String, FilePart> files = new LinkedHashMap<>();

  private BotApiParams(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /**
   * Reads the parameters of a request: at once when its body is already in memory, else
   * continuations run on {@code executor} (Akka's converted futures would otherwise run them on
   * the common pool, a thread per task on small machines).
   */
  static CompletionStage<BotApiParams> read(
      HttpRequest request,
      ClassicActorSystemProvider system,
      Executor executor,
      ObjectMapper mapper,
      long maxBytes) {
    BotApiParams params = new BotApiParams(mapper);
    request.getUri().query().toMap().forEach((k, v) -> params.values.put(k, TextNode.valueOf(v)));
    HttpEntity entity = request.entity();
    MediaType type = entity.getContentType().mediaType();
    if (type.isMultipart() && type.subType().equals("form-data")) {
      return entity
          .toStrict(READ_TIMEOUT_MILLIS, maxBytes, system)
          .thenComposeAsync(
              strict -> Unmarshaller.entityToMultipartFormData().unmarshal(strict, system),
              executor)
          .thenComposeAsync(
              form -> form.toStrict(READ_TIMEOUT_MILLIS, Materializer.matFromSystem(system)),
              executor)
          .thenApplyAsync(params::addParts, executor);
    }
    if (entity instanceof HttpEntity.Strict strict) {
      // Already in memory (a small body arrives with its headers): read it here. Akka HTTP's
      // toStrict with a size limit runs a stream even for a strict entity, which cost the
      // emulator more than the call itself. The limit is checked alike (413).
      try {
        if (strict.getData().length() > maxBytes) {
          throw new Failure(413, "Request Entity Too Large", null);
        }
        return CompletableFuture.completedFuture(
            params.addBody(type, strict.getData().toArray()));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return entity
        .toStrict(READ_TIMEOUT_MILLIS, maxBytes, system)
        .thenApplyAsync(strict -> params.addBody(type, strict.getData().toArray()), executor);
  }

  private BotApiParams addParts(Multipart.FormData.Strict form) {
    for (Multipart.FormData.BodyPart.Strict part : form.getStrictParts()) {
      byte[] data = part.getEntity().getData().toArray();
      if (part.getFilename().isPresent()) {
        files.put(part.getName(), new FilePart(part.getFilename().get(), data));
      } else {
        values.put(part.getName(), TextNode.valueOf(new String(data, StandardCharsets.UTF_8)));
      }
    }
    return this;
  }

  private BotApiParams addBody(MediaType type, byte[] body) {
    if (body.length == 0) {
      return this;
    }
    String subType = type.subType();
    if (type.isApplication() && subType.equals("json")) {
      JsonNode json;
      try {
        json = mapper.readTree(body);
      } catch (IOException e) {
        throw Failure.badRequest("can't parse JSON encoded request");
      }
      if (!json.isObject()) {
        throw Failure.badRequest("JSON object expected as request body");
      }
      json.fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue()));
    } else if (type.isApplication() && subType.equals("x-www-form-urlencoded")) {
      for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = eq < 0 ? pair : pair.substring(0, eq);
        String value = eq < 0 ? "" : pair.substring(eq + 1);
        values.put(decode(key), TextNode.valueOf(decode(value)));
      }
    }
    return this;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** The parameter as text (numbers and booleans in their JSON spelling), or null if absent. */
  String text(String name) {
    JsonNode node = values.get(name);
    if (node == null || node.isNull()) {
      return null;
    }
    return node.isValueNode() ? node.asText() : node.toString();
  }

  /** The parameter as a long, or {@code fallback} if absent; 400 if it is not a number. */
  long longValue(String name, long fallback) {
    String s = text(name);
    if (s == null || s.isBlank()) {
      return fallback;
    }
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      throw Failure.badRequest("invalid " + name + " specified");
    }
  }

  boolean bool(String name) {
    String s = text(name);
    return s != null && (s.equalsIgnoreCase("true") || s.equals("1"));
  }

  /** The parameter as JSON: JSON bodies carry it as is, forms and multipart as a JSON string. */
  JsonNode json(String name) {
    JsonNode node = values.get(name);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      return node;
    }
    try {
      return mapper.readTree(node.asText());
    } catch (IOException e) {
      throw Failure.badRequest("can't parse " + name + " JSON object");
    }
  }

  /** The file uploaded as this parameter: its own part, or the part it names as attach://. */
  FilePart file(String name) {
    FilePart direct = files.get(name);
    if (direct != null) {
      return direct;
    }
    String value = text(name);
    if (value != null && value.startsWith(ATTACH)) {
      FilePart attached = files.get(value.substring(ATTACH.length()));
      if (attached == null) {
        throw Failure.badRequest("can't find attached file \"" + value + "\"");
      }
      return attached;
    }
    return null;
  }
}
