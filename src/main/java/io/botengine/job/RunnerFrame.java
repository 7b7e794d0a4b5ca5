package io.botengine.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.Json;
import java.util.Locale;

/**
 * One Server-Sent Event of the Runner, classified (see docs/runner-protocol.md, section 2). Both
 * dialects are understood in one stream: the JSON in {@code data:} decides what a frame is, the SSE
 * {@code event:} name is used only when the JSON alone is ambiguous. {@link #parse} never throws;
 * whatever cannot be understood becomes {@link Skipped}. Every frame keeps the SSE {@code id} it
 * came with ({@code null} when none), which is what a reconnect sends as {@code Last-Event-ID}.
 */
public sealed interface RunnerFrame {

  /** File name of a file output that names none. */
  String DEFAULT_FILE_NAME = "result.md";

  /** The SSE id of this frame, or {@code null}. */
  String eventId();

  /** True for the frames that end a job: {@link Completed}, {@link Failed}, {@link Cancelled}. */
  default boolean terminal() {
    return this instanceof Completed || this instanceof Failed || this instanceof Cancelled;
  }

  /** Progress of the job; {@code percent} is clamped to 0..100, {@code text} may be empty. */
  record Progress(int percent, String text, String eventId) implements RunnerFrame {
    public Progress(int percent, String text) {
      this(percent, text, null);
    }
  }

  /** What an output is sent as. */
  enum Kind {
    TEXT,
    FILE
  }

  /**
   * Something to send to the user. {@code index} is the Runner's sequence number (null in dialect 1
   * and for legacy {@code result} frames); {@code fileName} and {@code caption} are set for files
   * only, the file name already made safe (default {@value #DEFAULT_FILE_NAME}).
   */
  record Output(
      Long index, Kind kind, String content, String fileName, String caption, String eventId)
      implements RunnerFrame {
    public Output(Long index, Kind kind, String content, String fileName, String caption) {
      this(index, kind, content, fileName, caption, null);
    }
  }

  /**
   * A piece of text output {@code index} while it is being generated ({@code bot_output_delta},
   * section 6): appended to the output's preview; the {@link Output} of the same index that follows
   * is what the user keeps. Carries no SSE id.
   */
  record Delta(long index, String text, String eventId) implements RunnerFrame {
    public Delta(long index, String text) {
      this(index, text, null);
    }
  }

  /**
   * Not a Runner event: the stream was connected again, so the deltas of the output in progress
   * are replayed from its start (section 6). Emitted before the first event of a reconnection.
   */
  record Reconnected(String eventId) implements RunnerFrame {
    public Reconnected() {
      this(null);
    }
  }

  /** The job succeeded; {@code taskId} as the Runner reported it, or {@code null}. */
  record Completed(String taskId, String eventId) implements RunnerFrame {
    public Completed(String taskId) {
      this(taskId, null);
    }
  }

  /**
   * The job failed; {@code message} is the Runner's, or null when it gave none (the user is then
   * told {@code job.failed-unknown} in their language).
   */
  record Failed(String message, String eventId) implements RunnerFrame {
    public Failed(String message) {
      this(message, null);
    }

    /** A failure the Runner gave no reason for. */
    public static Failed unexplained(String eventId) {
      return new Failed(null, eventId);
    }
  }

  /** The job was cancelled on the Runner. */
  record Cancelled(String eventId) implements RunnerFrame {
    public Cancelled() {
      this(null);
    }
  }

  /** A frame that is ignored (and counted): why, never its content. */
  record Skipped(String reason, String eventId) implements RunnerFrame {
    public Skipped(String reason) {
      this(reason, null);
    }
  }

  /** Classifies one SSE event; {@code eventName} and {@code id} may be null. */
  static RunnerFrame parse(String eventName, String data, String id) {
    return FrameParser.parse(eventName, data, id);
  }

  /**
   * A Runner-given file name made safe to send: last path segment, no control or reserved
   * characters.
   */
  static String safeFileName(String name) {
    return FrameParser.safeFileName(name);
  }
}

/** The rules of {@link RunnerFrame#parse}, kept out of the interface's public surface. */
final class FrameParser {
  private static final int MAX_FILE_NAME = 128;

  private FrameParser() {}

  static RunnerFrame parse(String eventName, String data, String id) {
    String eventId = id == null || id.isEmpty() ? null : id;
    if (data == null || data.isBlank()) {
      return new RunnerFrame.Skipped("empty data", eventId);
    }
    JsonNode json;
    try {
      json = Json.MAPPER.readTree(data);
    } catch (JsonProcessingException e) {
      return new RunnerFrame.Skipped("not JSON", eventId);
    }
    if (json == null || !json.isObject()) {
      return new RunnerFrame.Skipped("not a JSON object", eventId);
    }
    String type = lower(text(json, "type"));
    if (type == null) {
      type = typeFromFields(json);
    }
    if (type == null) {
      type = lower(eventName);
    }
    if (type == null) {
      return new RunnerFrame.Skipped("no type", eventId);
    }
    switch (type) {
      case "progress":
        return new RunnerFrame.Progress(percent(json), progressText(json), eventId);
      case "bot_output":
        return output(json, eventId);
      case "bot_output_delta":
        return delta(json, eventId);
      case "result":
        return new RunnerFrame.Output(
            null, RunnerFrame.Kind.TEXT, orEmpty(text(json, "content")), null, null, eventId);
      case "complete":
      case "completed":
        return completion(json, eventId);
      case "done":
        return new RunnerFrame.Completed(text(json, "task_id"), eventId);
      case "error":
      case "failed":
        return failed(json, eventId);
      case "cancelled":
      case "canceled":
        return new RunnerFrame.Cancelled(eventId);
      default:
        return new RunnerFrame.Skipped("unknown type '" + abbreviate(type) + "'", eventId);
    }
  }

  /**
   * Dialect 1 frames without {@code type}: what their fields say, or null when they say nothing.
   */
  private static String typeFromFields(JsonNode json) {
    String status = lower(text(json, "status"));
    if ("completed".equals(status)) {
      return "complete";
    }
    if (json.hasNonNull("error") && !json.get("error").asText().isEmpty()) {
      return "error";
    }
    if ("failed".equals(status) || "error".equals(status)) {
      return "error";
    }
    if ("cancelled".equals(status) || "canceled".equals(status)) {
      return "cancelled";
    }
    if (json.has("output_type")) {
      return "bot_output";
    }
    return null;
  }

  private static RunnerFrame completion(JsonNode json, String eventId) {
    String status = lower(text(json, "status"));
    if ("failed".equals(status) || "error".equals(status)) {
      return failed(json, eventId);
    }
    if ("cancelled".equals(status) || "canceled".equals(status)) {
      return new RunnerFrame.Cancelled(eventId);
    }
    return new RunnerFrame.Completed(text(json, "task_id"), eventId);
  }

  private static RunnerFrame output(JsonNode json, String eventId) {
    String outputType = lower(text(json, "output_type"));
    RunnerFrame.Kind kind;
    if ("text".equals(outputType)) {
      kind = RunnerFrame.Kind.TEXT;
    } else if ("file".equals(outputType)) {
      kind = RunnerFrame.Kind.FILE;
    } else {
      return new RunnerFrame.Skipped("invalid output: output_type", eventId);
    }
    JsonNode content = json.get("content");
    if (content != null && !content.isNull() && !content.isTextual()) {
      return new RunnerFrame.Skipped("invalid output: content", eventId);
    }
    Long index = null;
    JsonNode indexNode = json.get("index");
    if (indexNode != null && !indexNode.isNull()) {
      index = index(indexNode);
      if (index == null) {
        return new RunnerFrame.Skipped("invalid output: index", eventId);
      }
    }
    String body = content == null || content.isNull() ? "" : content.asText();
    if (kind == RunnerFrame.Kind.TEXT) {
      return new RunnerFrame.Output(index, kind, body, null, null, eventId);
    }
    String caption = text(json, "caption");
    return new RunnerFrame.Output(
        index,
        kind,
        body,
        safeFileName(text(json, "filename")),
        caption == null || caption.isEmpty() ? null : caption,
        eventId);
  }

  private static RunnerFrame delta(JsonNode json, String eventId) {
    JsonNode indexNode = json.get("index");
    Long index = indexNode == null || indexNode.isNull() ? null : index(indexNode);
    if (index == null) {
      return new RunnerFrame.Skipped("invalid delta: index", eventId);
    }
    JsonNode delta = json.get("delta");
    if (delta == null || !delta.isTextual()) {
      return new RunnerFrame.Skipped("invalid delta: delta", eventId);
    }
    return new RunnerFrame.Delta(index, delta.asText(), eventId);
  }

  private static Long index(JsonNode node) {
    if (node.isIntegralNumber() && node.canConvertToLong() && node.asLong() >= 0) {
      return node.asLong();
    }
    if (node.isFloatingPointNumber()
        && node.asDouble() >= 0
        && node.asDouble() < 1e15
        && node.asDouble() == Math.rint(node.asDouble())) {
      return (long) node.asDouble();
    }
    if (node.isTextual() && node.asText().matches("\\d{1,18}")) {
      return Long.parseLong(node.asText());
    }
    return null;
  }

  private static int percent(JsonNode json) {
    JsonNode node = json.get("progress");
    if (node == null) {
      return 0;
    }
    double value;
    if (node.isNumber()) {
      value = node.asDouble();
    } else {
      try {
        value = Double.parseDouble(node.asText().trim());
      } catch (NumberFormatException e) {
        return 0;
      }
    }
    return Double.isNaN(value) ? 0 : (int) Math.max(0, Math.min(100, value));
  }

  private static String progressText(JsonNode json) {
    String content = text(json, "content");
    return content != null ? content : orEmpty(text(json, "message"));
  }

  private static RunnerFrame.Failed failed(JsonNode json, String eventId) {
    for (String field : new String[] {"error", "content", "message", "detail"}) {
      JsonNode node = json.get(field);
      if (node != null && !node.isNull()) {
        String message = node.isValueNode() ? node.asText() : node.toString();
        if (!message.isBlank()) {
          return new RunnerFrame.Failed(message, eventId);
        }
      }
    }
    return RunnerFrame.Failed.unexplained(eventId);
  }

  /**
   * The last path segment without control or reserved characters; the default when nothing is left.
   */
  static String safeFileName(String name) {
    if (name == null) {
      return RunnerFrame.DEFAULT_FILE_NAME;
    }
    String base = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
    StringBuilder safe = new StringBuilder();
    base.codePoints()
        .filter(c -> c >= 0x20 && c != 0x7f && "<>:\"|?*".indexOf(c) < 0)
        .forEach(safe::appendCodePoint);
    String result = safe.toString().strip();
    while (result.startsWith(".")) {
      result = result.substring(1);
    }
    if (result.isBlank()) {
      return RunnerFrame.DEFAULT_FILE_NAME;
    }
    if (result.codePointCount(0, result.length()) > MAX_FILE_NAME) {
      int dot = result.lastIndexOf('.');
      String ext = dot > 0 && result.length() - dot <= 10 ? result.substring(dot) : "";
      result =
          result.substring(0, result.offsetByCodePoints(0, MAX_FILE_NAME - ext.length())) + ext;
    }
    return result;
  }

  private static String text(JsonNode json, String field) {
    JsonNode node = json.get(field);
    return node == null || node.isNull() || !node.isValueNode() ? null : node.asText();
  }

  private static String lower(String value) {
    return value == null || value.isBlank() ? null : value.strip().toLowerCase(Locale.ROOT);
  }

  private static String orEmpty(String value) {
    return value == null ? "" : value;
  }

  private static String abbreviate(String value) {
    return value.length() <= 40 ? value : value.substring(0, 40) + "…";
  }
}
