package io.botengine.sandbox;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.botengine.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How the {@link RunnerEmulator} behaves for one job: the SSE frames it sends, their pacing, and
 * the ways it misbehaves. The constants are the cases the engine must survive (docs/runner-
 * protocol.md); {@link #manyOutputs}, {@link #largeFile} and {@link #withPacing} make load and
 * timing variants.
 *
 * @param frames what the stream sends, in order; a frame's SSE id is its 1-based position
 * @param pacing pause between frames (zero: as fast as possible)
 * @param sendIds whether frames carry {@code id:} lines
 * @param interruptAfter stop a connection after this many frames of the list (0: never)
 * @param interruption how such a connection stops
 * @param interruptedConnections how many of a task's first connections are interrupted
 * @param honourLastEventId whether a reconnect resumes after {@code Last-Event-ID} or replays all
 * @param stallAtEnd after the frames, keep the connection open and silent
 * @param upload how {@code POST /analyze-cv} answers
 * @param streamStatus status of the stream endpoint (200, or e.g. 503 for a stream that is down)
 * @param pollsUntilDone status polls answered queued/running before the final status
 * @param finalStatus what polling finally reports: completed, failed or cancelled
 * @param error the error polling reports for a failed job
 * @param resultContent what {@code GET /api/tasks/{id}/result} returns once completed
 */
public record RunnerScenario(
    String name,
    List<Frame> frames,
    Duration pacing,
    boolean sendIds,
    int interruptAfter,
    Interruption interruption,
    int interruptedConnections,
    boolean honourLastEventId,
    boolean stallAtEnd,
    UploadReply upload,
    int streamStatus,
    int pollsUntilDone,
    String finalStatus,
    String error,
    String resultContent) {

  /** Placeholder replaced by the task's id when a frame is sent. */
  public static final String TASK_ID = "$TASK_ID";

  private static final String TIMESTAMP = "2025-01-01T12:00:00Z";
  private static final String ANALYSIS =
      "## Анализ CV\n\n**Сильные стороны:** опыт, структура.\n\n**Слабые стороны:** нет цифр.";
  private static final String RECOMMENDATIONS =
      "## Рекомендации\n\n1. Добавьте измеримые результаты.\n2. Сократите до двух страниц.";

  private static final String STREAMED_ANALYSIS =
      "## Анализ CV\n\n*Сильные стороны:* пять лет с Java и Akka, ясная структура, проекты с"
          + " нагрузкой и измеримым итогом.\n\n*Слабые стороны:* мало цифр в последних двух"
          + " местах работы, нет ссылок на код.\n\n*Итог:* сильное резюме для позиции senior;"
          + " добавьте результаты в числах и ссылку на GitHub.";

  /** How a connection is interrupted. */
  public enum Interruption {
    /** The connection is aborted mid-stream (the client sees a truncated response). */
    DROP,
    /** The response ends normally, without a final frame. */
    END
  }

  /** How the upload endpoint answers. */
  public enum UploadReply {
    OK,
    ERROR_500,
    NO_TASK_ID,
    /**
     * The task is created and runs, but the answer is held until the same upload comes again
     * with its {@code Idempotency-Key} (or a minute passed): an engine that dies meanwhile never
     * learns the task id.
     */
    HELD_UNTIL_REPEATED
  }

  /** One SSE frame: an {@code event:} name (may be null) and the {@code data:}, or raw text. */
  public record Frame(String event, String data, boolean raw) {
    /** A frame with a single-line data payload (JSON, or garbage). */
    public static Frame data(String event, String data) {
      return new Frame(event, data, false);
    }

    /** Text written to the stream as is (comments, stray lines); never gets an id. */
    public static Frame raw(String text) {
      return new Frame(null, text, true);
    }
  }

  public RunnerScenario {
    frames = List.copyOf(frames);
  }

  /** Seed 001, dialect 2: progress, two texts, two files with captions, complete; with ids. */
  public static final RunnerScenario SEED_001 =
      completing("SEED_001", seed001Frames()).resultContent(ANALYSIS).build();

  /**
   * Seed 000, dialect 1: {@code event: message}, no index, no ids, {@code {"status":"completed"}}.
   */
  public static final RunnerScenario DIALECT_1 =
      completing(
              "DIALECT_1",
              List.of(
                  Frame.data("progress", progress("message", "Executing node...", 25)),
                  Frame.data("message", text(null, "CV успешно прочитано. Начинаю анализ...")),
                  Frame.data("message", text(null, "Анализ завершен. Отправляю результат...")),
                  Frame.data("message", file(null, "analysis.md", ANALYSIS, "Результат анализа")),
                  Frame.data(
                      "complete", json("status", "completed", "result_file", "path/to/file"))))
          .sendIds(false)
          .resultContent(ANALYSIS)
          .build();

  /** An output, then {@code {"type":"error","content":"Ошибка обработки файла"}}. */
  public static final RunnerScenario ERROR_MIDSTREAM =
      completing(
              "ERROR_MIDSTREAM",
              List.of(
                  Frame.data("progress", progress("content", "Извлекаю текст...", 10)),
                  Frame.data("bot_output", text(1L, "CV успешно прочитано. Начинаю анализ...")),
                  Frame.data("error", json("type", "error", "content", "Ошибка обработки файла"))))
          .finalStatus("failed", "Ошибка обработки файла")
          .build();

  /**
   * Ids; the first connection drops after output 2 of 4; a reconnect resumes after Last-Event-ID.
   */
  public static final RunnerScenario DROP_AND_RESUME =
      completing("DROP_AND_RESUME", fourOutputs()).interrupt(3, Interruption.DROP, 1).build();

  /**
   * Ids; the first connection ends normally after output 2 of 4; a reconnect ignores Last-Event-ID
   * and replays from the start, as a naive server does.
   */
  public static final RunnerScenario REPLAY_ON_RECONNECT =
      completing("REPLAY_ON_RECONNECT", fourOutputs())
          .interrupt(3, Interruption.END, 1)
          .honourLastEventId(false)
          .build();

  /** Like {@link #REPLAY_ON_RECONNECT}, but every connection ends after output 2: no progress. */
  public static final RunnerScenario REPLAY_FOREVER =
      completing("REPLAY_FOREVER", fourOutputs())
          .interrupt(3, Interruption.END, Integer.MAX_VALUE)
          .honourLastEventId(false)
          .build();

  /** Outputs with index 1, 3, 2, 2, 4, then complete. */
  public static final RunnerScenario DUPLICATES_AND_OUT_OF_ORDER =
      completing(
              "DUPLICATES_AND_OUT_OF_ORDER",
              List.of(
                  Frame.data("bot_output", text(1L, "Вывод 1")),
                  Frame.data("bot_output", text(3L, "Вывод 3")),
                  Frame.data("bot_output", text(2L, "Вывод 2")),
                  Frame.data("bot_output", text(2L, "Вывод 2")),
                  Frame.data("bot_output", text(4L, "Вывод 4")),
                  complete()))
          .build();

  /** Output 1, an output with index 10^15 (a broken Runner), outputs 2 and 3, then complete. */
  public static final RunnerScenario ABSURD_INDEX =
      completing(
              "ABSURD_INDEX",
              List.of(
                  Frame.data("bot_output", text(1L, "Вывод 1")),
                  Frame.data("bot_output", text(1_000_000_000_000_000L, "Вывод 10^15")),
                  Frame.data("bot_output", text(2L, "Вывод 2")),
                  Frame.data("bot_output", text(3L, "Вывод 3")),
                  complete()))
          .build();

  /**
   * Three outputs and complete, with garbage between: a comment, a retry line, an event without
   * data and empty data (which any SSE parser drops), and {@link #GARBAGE_PARSED} frames a client
   * does see: whitespace data, non-JSON, a JSON array, an unknown type, an output without type.
   */
  public static final RunnerScenario GARBAGE =
      completing(
              "GARBAGE",
              List.of(
                  Frame.raw(": keep-alive comment\n\n"),
                  Frame.data("bot_output", text(1L, "Вывод 1")),
                  Frame.raw("retry: 3000\n\n"),
                  Frame.raw("event: ping\n\n"),
                  Frame.raw("data:\n\n"),
                  Frame.raw("data:    \n\n"),
                  Frame.data("message", "Internal Server Error"),
                  Frame.data("bot_output", text(2L, "Вывод 2")),
                  Frame.data(null, "[1, 2, 3]"),
                  Frame.data(null, json("type", "heartbeat")),
                  Frame.data("bot_output", json("type", "bot_output", "content", "без типа")),
                  Frame.data("bot_output", text(3L, "Вывод 3")),
                  complete()))
          .build();

  /** How many frames of {@link #GARBAGE} reach a client's parser and must be skipped. */
  public static final int GARBAGE_PARSED = 5;

  /** One output, then silence with the connection open; polling never finishes either. */
  public static final RunnerScenario STALL =
      completing(
              "STALL",
              List.of(
                  Frame.data("progress", progress("content", "Извлекаю текст...", 10)),
                  Frame.data("bot_output", text(1L, "CV успешно прочитано. Начинаю анализ..."))))
          .stallAtEnd()
          .pollsUntilDone(Integer.MAX_VALUE)
          .build();

  /**
   * Seed 003: a first output, then the analysis streamed word by word (deltas of index 2, 60 ms
   * apart, as a language model writes), its complete output, the recommendations file, complete.
   */
  public static final RunnerScenario STREAMED =
      streamed("STREAMED", STREAMED_ANALYSIS, Duration.ofMillis(60));

  /**
   * Output 1, then {@code analysis} as {@code bot_output_delta} frames of index 2 (one per word,
   * {@code pacing} apart), its complete {@code bot_output}, a file output 3, then complete. Only
   * the complete frames carry SSE ids, so a reconnect replays the deltas of the output in progress.
   */
  public static RunnerScenario streamed(String name, String analysis, Duration pacing) {
    List<Frame> frames = new ArrayList<>();
    frames.add(Frame.data("bot_output", text(1L, "CV успешно прочитано. Начинаю анализ...")));
    for (String token : tokens(analysis)) {
      frames.add(Frame.data(DELTA_EVENT, delta(2L, token)));
    }
    frames.add(Frame.data("bot_output", text(2L, analysis)));
    frames.add(Frame.data("bot_output", file(3L, "recommendations.md", RECOMMENDATIONS,
        "Рекомендации")));
    frames.add(complete());
    return completing(name, frames).pacing(pacing).resultContent(analysis).build();
  }

  /** This scenario, its first connection cut ({@code how}) after {@code frames} frames. */
  public RunnerScenario interruptedOnceAfter(int frames, Interruption how) {
    return toBuilder().interrupt(frames, how, 1).build();
  }

  /** The SSE event name of delta frames, which never carry an id. */
  public static final String DELTA_EVENT = "bot_output_delta";

  /** The pieces a model would stream: each word with the whitespace after it. */
  static List<String> tokens(String text) {
    return List.of(text.split("(?<=\\s)(?=\\S)"));
  }

  /** Seed 001 at a realistic pace (3 s between frames; {@link #withPacing} to change). */
  public static final RunnerScenario SLOW =
      SEED_001.withName("SLOW").withPacing(Duration.ofSeconds(3));

  /** The upload answers 500 (nothing is created). */
  public static final RunnerScenario UPLOAD_500 =
      SEED_001.toBuilder().name("UPLOAD_500").upload(UploadReply.ERROR_500).build();

  /** The upload answers 200 without a task id. */
  public static final RunnerScenario UPLOAD_NO_TASK_ID =
      SEED_001.toBuilder().name("UPLOAD_NO_TASK_ID").upload(UploadReply.NO_TASK_ID).build();

  /** The stream endpoint always answers 503; polling reports completed after two polls. */
  public static final RunnerScenario STREAM_DOWN =
      completing("STREAM_DOWN", List.of()).streamStatus(503).resultContent(ANALYSIS).build();

  /** {@code count} text outputs (index 1..count) then complete, {@code pacing} apart; for load. */
  public static RunnerScenario manyOutputs(int count, Duration pacing) {
    List<Frame> frames = new ArrayList<>();
    for (long i = 1; i <= count; i++) {
      frames.add(Frame.data("bot_output", text(i, "Вывод " + i)));
    }
    frames.add(complete());
    return completing("MANY_OUTPUTS(" + count + ")", frames).pacing(pacing).build();
  }

  /**
   * {@code steps} progress frames (percent rising to 100) {@code pacing} apart, then one text output
   * and complete: for the progress display.
   */
  public static RunnerScenario progressive(int steps, Duration pacing) {
    List<Frame> frames = new ArrayList<>();
    for (int i = 1; i <= steps; i++) {
      frames.add(Frame.data("progress", progress("content", "Шаг " + i, i * 100 / steps)));
    }
    frames.add(Frame.data("bot_output", text(1L, "Готово")));
    frames.add(complete());
    return completing("PROGRESSIVE(" + steps + ")", frames).pacing(pacing).build();
  }

  /** One file output of {@code chars} characters (far beyond one TCP packet or 4 KiB), complete. */
  public static RunnerScenario largeFile(int chars) {
    String content = "# Большой отчёт\n" + "Ж".repeat(Math.max(0, chars - 16));
    return completing(
            "LARGE_FILE(" + chars + ")",
            List.of(Frame.data("bot_output", file(1L, "report.md", content, "Отчёт")), complete()))
        .resultContent(content)
        .build();
  }

  /** This scenario with another pause between frames. */
  public RunnerScenario withPacing(Duration newPacing) {
    return toBuilder().pacing(newPacing).build();
  }

  /** This scenario under another name. */
  public RunnerScenario withUpload(UploadReply reply) {
    return toBuilder().upload(reply).build();
  }

  public RunnerScenario withName(String newName) {
    return toBuilder().name(newName).build();
  }

  private Builder toBuilder() {
    return new Builder(this);
  }

  private static Builder completing(String name, List<Frame> frames) {
    return new Builder(
        new RunnerScenario(
            name,
            frames,
            Duration.ZERO,
            true,
            0,
            Interruption.END,
            0,
            true,
            false,
            UploadReply.OK,
            200,
            2,
            "completed",
            null,
            "Результат анализа"));
  }

  /** Mutable copy used to build the constants. */
  private static final class Builder {
    private String name;
    private List<Frame> frames;
    private Duration pacing;
    private boolean sendIds;
    private int interruptAfter;
    private Interruption interruption;
    private int interruptedConnections;
    private boolean honourLastEventId;
    private boolean stallAtEnd;
    private UploadReply upload;
    private int streamStatus;
    private int pollsUntilDone;
    private String finalStatus;
    private String error;
    private String resultContent;

    Builder(RunnerScenario s) {
      name = s.name;
      frames = s.frames;
      pacing = s.pacing;
      sendIds = s.sendIds;
      interruptAfter = s.interruptAfter;
      interruption = s.interruption;
      interruptedConnections = s.interruptedConnections;
      honourLastEventId = s.honourLastEventId;
      stallAtEnd = s.stallAtEnd;
      upload = s.upload;
      streamStatus = s.streamStatus;
      pollsUntilDone = s.pollsUntilDone;
      finalStatus = s.finalStatus;
      error = s.error;
      resultContent = s.resultContent;
    }

    Builder name(String value) {
      name = value;
      return this;
    }

    Builder pacing(Duration value) {
      pacing = value;
      return this;
    }

    Builder sendIds(boolean value) {
      sendIds = value;
      return this;
    }

    Builder interrupt(int afterFrames, Interruption how, int connections) {
      interruptAfter = afterFrames;
      interruption = how;
      interruptedConnections = connections;
      return this;
    }

    Builder honourLastEventId(boolean value) {
      honourLastEventId = value;
      return this;
    }

    Builder stallAtEnd() {
      stallAtEnd = true;
      return this;
    }

    Builder upload(UploadReply value) {
      upload = value;
      return this;
    }

    Builder streamStatus(int value) {
      streamStatus = value;
      return this;
    }

    Builder pollsUntilDone(int value) {
      pollsUntilDone = value;
      return this;
    }

    Builder finalStatus(String status, String errorMessage) {
      finalStatus = status;
      error = errorMessage;
      return this;
    }

    Builder resultContent(String value) {
      resultContent = value;
      return this;
    }

    RunnerScenario build() {
      return new RunnerScenario(
          name,
          frames,
          pacing,
          sendIds,
          interruptAfter,
          interruption,
          interruptedConnections,
          honourLastEventId,
          stallAtEnd,
          upload,
          streamStatus,
          pollsUntilDone,
          finalStatus,
          error,
          resultContent);
    }
  }

  private static List<Frame> seed001Frames() {
    return List.of(
        Frame.data("progress", progress("content", "Извлекаю текст из резюме...", 10)),
        Frame.data("bot_output", text(1L, "CV успешно прочитано. Начинаю анализ...")),
        Frame.data("progress", progress("content", "Анализирую резюме...", 50)),
        Frame.data("bot_output", text(2L, "Анализ завершен. Отправляю результат...")),
        Frame.data("bot_output", file(3L, "cv_analysis.md", ANALYSIS, "Результат анализа")),
        Frame.data("bot_output", file(4L, "recommendations.md", RECOMMENDATIONS, "Рекомендации")),
        complete());
  }

  private static List<Frame> fourOutputs() {
    return List.of(
        Frame.data("progress", progress("content", "Начинаю...", 5)),
        Frame.data("bot_output", text(1L, "Вывод 1")),
        Frame.data("bot_output", text(2L, "Вывод 2")),
        Frame.data("bot_output", text(3L, "Вывод 3")),
        Frame.data("bot_output", file(4L, "cv_analysis.md", ANALYSIS, "Вывод 4")),
        complete());
  }

  private static Frame complete() {
    return Frame.data(
        "complete", json("type", "complete", "status", "completed", "task_id", TASK_ID));
  }

  private static String progress(String textField, String text, int percent) {
    return Json.MAPPER.createObjectNode()
        .put("type", "progress")
        .put(textField, text)
        .put("progress", percent)
        .toString();
  }

  private static String text(Long index, String content) {
    ObjectNode node =
        Json.MAPPER.createObjectNode()
            .put("type", "bot_output")
            .put("output_type", "text")
            .put("content", content)
            .put("timestamp", TIMESTAMP);
    return index == null ? node.toString() : node.put("index", index).toString();
  }

  private static String delta(long index, String piece) {
    return Json.MAPPER.createObjectNode()
        .put("type", DELTA_EVENT)
        .put("index", index)
        .put("delta", piece)
        .put("timestamp", TIMESTAMP)
        .toString();
  }

  private static String file(Long index, String fileName, String content, String caption) {
    ObjectNode node =
        Json.MAPPER.createObjectNode()
            .put("type", "bot_output")
            .put("output_type", "file")
            .put("filename", fileName)
            .put("content", content)
            .put("caption", caption)
            .put("timestamp", TIMESTAMP);
    return index == null ? node.toString() : node.put("index", index).toString();
  }

  private static String json(String... keysAndValues) {
    ObjectNode node = Json.MAPPER.createObjectNode();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      node.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return node.toString();
  }
}
