package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.job.RunnerFrame.Cancelled;
import io.botengine.job.RunnerFrame.Completed;
import io.botengine.job.RunnerFrame.Failed;
import io.botengine.job.RunnerFrame.Kind;
import io.botengine.job.RunnerFrame.Output;
import io.botengine.job.RunnerFrame.Progress;
import io.botengine.job.RunnerFrame.Skipped;
import io.botengine.testing.LogCapture;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(LogCapture.class)
class RunnerFrameTest {

  // Streamed text (section 6)

  @Test
  void readsADeltaWithTheIndexOfTheOutputItPreviews() {
    RunnerFrame frame =
        RunnerFrame.parse(
            "bot_output_delta",
            "{\"type\":\"bot_output_delta\",\"index\":5,\"delta\":\"Сильные стороны: \","
                + "\"timestamp\":\"2025-01-01T12:00:00Z\"}",
            null);
    assertEquals(new RunnerFrame.Delta(5, "Сильные стороны: "), frame);
    assertFalse(frame.terminal());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"type\":\"bot_output_delta\",\"delta\":\"x\"}",
        "{\"type\":\"bot_output_delta\",\"index\":-1,\"delta\":\"x\"}",
        "{\"type\":\"bot_output_delta\",\"index\":\"five\",\"delta\":\"x\"}",
        "{\"type\":\"bot_output_delta\",\"index\":5}",
        "{\"type\":\"bot_output_delta\",\"index\":5,\"delta\":{\"a\":1}}"
      })
  void skipsADeltaWithoutAValidIndexOrText(String data) {
    assertInstanceOf(Skipped.class, RunnerFrame.parse("bot_output_delta", data, null));
  }

  // Dialect 1 (seed 000)

  @Test
  void readsDialect1Progress() {
    RunnerFrame frame =
        RunnerFrame.parse(
            "progress",
            "{\"type\": \"progress\", \"message\": \"Executing node...\", \"progress\": 25}",
            null);
    assertEquals(new Progress(25, "Executing node..."), frame);
  }

  @Test
  void readsDialect1TextOutputWithoutIndex() {
    RunnerFrame frame =
        RunnerFrame.parse(
            "message",
            "{\"type\": \"bot_output\", \"output_type\": \"text\", \"content\": \"Анализ"
                + " завершен!\", \"timestamp\": \"...\"}",
            null);
    assertEquals(new Output(null, Kind.TEXT, "Анализ завершен!", null, null), frame);
  }

  @Test
  void readsDialect1FileOutput() {
    RunnerFrame frame =
        RunnerFrame.parse(
            "message",
            "{\"type\": \"bot_output\", \"output_type\": \"file\", \"filename\": \"analysis.md\","
                + " \"content\": \"## Анализ...\", \"caption\": \"Результат анализа\","
                + " \"timestamp\": \"...\"}",
            null);
    assertEquals(
        new Output(null, Kind.FILE, "## Анализ...", "analysis.md", "Результат анализа"), frame);
  }

  @Test
  void readsDialect1Completion() {
    RunnerFrame frame =
        RunnerFrame.parse(
            "complete", "{\"status\": \"completed\", \"result_file\": \"path/to/file\"}", null);
    assertEquals(new Completed(null), frame);
  }

  @Test
  void readsStatusCompletedWithoutEventName() {
    assertEquals(new Completed(null), RunnerFrame.parse(null, "{\"status\":\"completed\"}", null));
  }

  @Test
  void readsDialect1ErrorField() {
    assertEquals(
        new Failed("Файл повреждён"),
        RunnerFrame.parse(null, "{\"error\": \"Файл повреждён\"}", null));
  }

  @Test
  void readsErrorEventWithoutTypeByItsName() {
    assertEquals(new Failed("упало"), RunnerFrame.parse("error", "{\"message\": \"упало\"}", null));
    assertEquals(new Failed(null), RunnerFrame.parse("error", "{}", null));
  }

  @Test
  void readsEmptyErrorFieldAsNoErrorUnlessTheEventSaysSo() {
    assertInstanceOf(Skipped.class, RunnerFrame.parse(null, "{\"error\": \"\"}", null));
    assertEquals(
        new Failed(null),
        RunnerFrame.parse("error", "{\"error\": \"\"}", null));
  }

  @Test
  void readsDoneAsCompletion() {
    assertEquals(new Completed(null), RunnerFrame.parse(null, "{\"type\":\"done\"}", null));
  }

  @Test
  void readsCancelled() {
    assertEquals(new Cancelled(), RunnerFrame.parse(null, "{\"type\":\"cancelled\"}", null));
    assertEquals(new Cancelled(), RunnerFrame.parse(null, "{\"status\":\"cancelled\"}", null));
  }

  @Test
  void readsLegacyResultAsTextOutputWithoutIndex() {
    assertEquals(
        new Output(null, Kind.TEXT, "Готово", null, null),
        RunnerFrame.parse(null, "{\"type\":\"result\",\"content\":\"Готово\"}", null));
  }

  // Dialect 2 (seed 001)

  @Test
  void readsDialect2ProgressFromContent() {
    assertEquals(
        new Progress(25, "Executing node..."),
        RunnerFrame.parse(
            "progress",
            "{\"type\": \"progress\", \"content\": \"Executing node...\", \"progress\": 25}",
            null));
  }

  @Test
  void readsDialect2TextOutputWithIndex() {
    assertEquals(
        new Output(5L, Kind.TEXT, "Анализ завершен!", null, null, "7"),
        RunnerFrame.parse(
            "bot_output",
            "{\"type\": \"bot_output\", \"output_type\": \"text\", \"content\": \"Анализ"
                + " завершен!\", \"timestamp\": \"...\", \"index\": 5}",
            "7"));
  }

  @Test
  void readsDialect2FileOutputWithIndex() {
    assertEquals(
        new Output(6L, Kind.FILE, "## Анализ...", "cv_analysis.txt", "Результат"),
        RunnerFrame.parse(
            "bot_output",
            "{\"type\": \"bot_output\", \"output_type\": \"file\", \"content\": \"## Анализ...\","
                + " \"filename\": \"cv_analysis.txt\", \"caption\": \"Результат\","
                + " \"timestamp\": \"...\", \"index\": 6}",
            null));
  }

  @Test
  void readsDialect2CompletionWithTaskId() {
    assertEquals(
        new Completed("abc-123"),
        RunnerFrame.parse(
            "complete",
            "{\"type\": \"complete\", \"status\": \"completed\", \"task_id\": \"abc-123\"}",
            null));
  }

  @Test
  void readsDialect2Error() {
    assertEquals(
        new Failed("Ошибка обработки файла"),
        RunnerFrame.parse(
            "error", "{\"type\": \"error\", \"content\": \"Ошибка обработки файла\"}", null));
  }

  @Test
  void givesAnErrorWithoutMessageTheDefaultMessage() {
    assertEquals(
        new Failed(null),
        RunnerFrame.parse("error", "{\"type\": \"error\"}", null));
    assertEquals(
        new Failed(null),
        RunnerFrame.parse(null, "{\"type\": \"error\", \"content\": \"\"}", null));
  }

  @Test
  void understandsBothDialectsInOneStream() {
    List<String[]> stream =
        List.of(
            new String[] {"progress", "{\"type\":\"progress\",\"message\":\"a\",\"progress\":10}"},
            new String[] {"progress", "{\"type\":\"progress\",\"content\":\"b\",\"progress\":20}"},
            new String[] {
              "message", "{\"type\":\"bot_output\",\"output_type\":\"text\",\"content\":\"t1\"}"
            },
            new String[] {
              "bot_output",
              "{\"type\":\"bot_output\",\"output_type\":\"text\",\"content\":\"t2\",\"index\":2}"
            },
            new String[] {null, "{\"type\":\"result\",\"content\":\"legacy\"}"},
            new String[] {"complete", "{\"status\":\"completed\"}"});
    List<RunnerFrame> frames =
        stream.stream().map(f -> RunnerFrame.parse(f[0], f[1], null)).collect(Collectors.toList());
    assertEquals(
        List.of(
            new Progress(10, "a"),
            new Progress(20, "b"),
            new Output(null, Kind.TEXT, "t1", null, null),
            new Output(2L, Kind.TEXT, "t2", null, null),
            new Output(null, Kind.TEXT, "legacy", null, null),
            new Completed(null)),
        frames);
  }

  // The JSON decides; the event name is only a hint

  @Test
  void letsTheJsonWinOverTheEventName() {
    assertEquals(
        new Progress(50, "x"),
        RunnerFrame.parse(
            "error", "{\"type\":\"progress\",\"content\":\"x\",\"progress\":50}", null));
    assertEquals(
        new Output(1L, Kind.TEXT, "hi", null, null),
        RunnerFrame.parse(
            "complete",
            "{\"type\":\"bot_output\",\"output_type\":\"text\",\"content\":\"hi\",\"index\":1}",
            null));
    assertEquals(new Failed("boom"), RunnerFrame.parse("complete", "{\"error\":\"boom\"}", null));
  }

  @Test
  void readsCompleteTypeWithFailedStatusAsFailure() {
    assertEquals(
        new Failed("нет"),
        RunnerFrame.parse(
            null, "{\"type\":\"complete\",\"status\":\"failed\",\"error\":\"нет\"}", null));
  }

  @Test
  void usesTheEventNameForTypelessJson() {
    assertEquals(new Completed(null), RunnerFrame.parse("complete", "{}", null));
    assertEquals(new Cancelled(), RunnerFrame.parse("cancelled", "{}", null));
    assertEquals(new Progress(30, ""), RunnerFrame.parse("progress", "{\"progress\":30}", null));
    assertInstanceOf(Skipped.class, RunnerFrame.parse("message", "{\"foo\":1}", null));
  }

  @Test
  void readsAnOutputWithoutTypeByItsOutputType() {
    assertEquals(
        new Output(3L, Kind.TEXT, "x", null, null),
        RunnerFrame.parse(null, "{\"output_type\":\"text\",\"content\":\"x\",\"index\":3}", null));
  }

  // Details of outputs

  @Test
  void defaultsAFileWithoutNameToResultMd() {
    Output output =
        (Output)
            RunnerFrame.parse(
                null, "{\"type\":\"bot_output\",\"output_type\":\"file\",\"content\":\"x\"}", null);
    assertEquals("result.md", output.fileName());
    assertEquals(null, output.caption());
  }

  @ParameterizedTest
  @CsvSource({
    "'../../etc/passwd', passwd",
    "'C:\\\\temp\\\\отчёт.md', отчёт.md",
    "'a<b>:c\"d|e?f*g.md', abcdefg.md",
    "'   ', result.md",
    "'...', result.md",
    "'.hidden', hidden"
  })
  void makesFileNamesSafe(String given, String expected) {
    assertEquals(expected, RunnerFrame.safeFileName(given));
  }

  @Test
  void shortensVeryLongFileNamesKeepingTheExtension() {
    String name = RunnerFrame.safeFileName("я".repeat(300) + ".md");
    assertTrue(name.endsWith(".md"));
    assertEquals(128, name.codePointCount(0, name.length()));
  }

  @Test
  void keepsAnEmptyOutputSoItsIndexIsNotLost() {
    assertEquals(
        new Output(4L, Kind.TEXT, "", null, null),
        RunnerFrame.parse(
            null, "{\"type\":\"bot_output\",\"output_type\":\"text\",\"index\":4}", null));
  }

  @Test
  void acceptsIndexAsStringOrWholeFloat() {
    assertEquals(
        7L,
        ((Output)
                RunnerFrame.parse(
                    null,
                    "{\"type\":\"bot_output\",\"output_type\":\"text\","
                        + "\"content\":\"\",\"index\":\"7\"}",
                    null))
            .index());
    assertEquals(
        8L,
        ((Output)
                RunnerFrame.parse(
                    null,
                    "{\"type\":\"bot_output\",\"output_type\":\"text\","
                        + "\"content\":\"\",\"index\":8.0}",
                    null))
            .index());
  }

  @Test
  void treatsEmptyCaptionAsNone() {
    Output output =
        (Output)
            RunnerFrame.parse(
                null,
                "{\"type\":\"bot_output\",\"output_type\":\"file\",\"filename\":\"a.md\","
                    + "\"content\":\"x\",\"caption\":\"\"}",
                null);
    assertEquals(null, output.caption());
  }

  @Test
  void clampsProgress() {
    assertEquals(
        new Progress(100, ""),
        RunnerFrame.parse(null, "{\"type\":\"progress\",\"progress\":250}", null));
    assertEquals(
        new Progress(0, ""),
        RunnerFrame.parse(null, "{\"type\":\"progress\",\"progress\":-3}", null));
    assertEquals(
        new Progress(42, ""),
        RunnerFrame.parse(null, "{\"type\":\"progress\",\"progress\":\"42.7\"}", null));
    assertEquals(
        new Progress(0, ""),
        RunnerFrame.parse(null, "{\"type\":\"progress\",\"progress\":\"много\"}", null));
  }

  @Test
  void carriesTheSseIdOnEveryKindOfFrame() {
    assertEquals("9", RunnerFrame.parse(null, "{\"type\":\"progress\"}", "9").eventId());
    assertEquals("9", RunnerFrame.parse(null, "{\"type\":\"done\"}", "9").eventId());
    assertEquals("9", RunnerFrame.parse(null, "{\"type\":\"error\"}", "9").eventId());
    assertEquals("9", RunnerFrame.parse(null, "{\"type\":\"cancelled\"}", "9").eventId());
    assertEquals("9", RunnerFrame.parse(null, "nonsense", "9").eventId());
    assertEquals(null, RunnerFrame.parse(null, "{\"type\":\"done\"}", "").eventId());
  }

  @Test
  void marksOnlyCompletedFailedAndCancelledTerminal() {
    assertTrue(new Completed(null).terminal());
    assertTrue(new Failed("x").terminal());
    assertTrue(new Cancelled().terminal());
    assertFalse(new Progress(1, "").terminal());
    assertFalse(new Output(1L, Kind.TEXT, "", null, null).terminal());
    assertFalse(new Skipped("x").terminal());
  }

  // Skip rules

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "not json",
        "{\"type\": ",
        "[1, 2, 3]",
        "\"done\"",
        "42",
        "null",
        "{}",
        "{\"type\":\"heartbeat\"}",
        "{\"type\":\"\"}",
        "{\"type\":\"bot_output\",\"content\":\"no output type\"}",
        "{\"type\":\"bot_output\",\"output_type\":\"video\",\"content\":\"x\"}",
        "{\"type\":\"bot_output\",\"output_type\":\"text\",\"content\":{\"a\":1}}",
        "{\"type\":\"bot_output\",\"output_type\":\"text\",\"content\":\"x\",\"index\":\"five\"}",
        "{\"type\":\"bot_output\",\"output_type\":\"text\",\"content\":\"x\",\"index\":-1}",
        "{\"type\":\"bot_output\",\"output_type\":\"text\",\"content\":\"x\",\"index\":1.5}",
        "{\"status\":\"running\"}"
      })
  void skipsWhatItDoesNotUnderstand(String data) {
    assertInstanceOf(Skipped.class, RunnerFrame.parse(null, data, "1"));
  }

  @Test
  void skipsNullData() {
    assertEquals(new Skipped("empty data"), RunnerFrame.parse("message", null, null));
  }

  @Test
  void neverPutsContentIntoTheSkipReason() {
    Skipped skipped = (Skipped) RunnerFrame.parse(null, "секретное содержимое файла", null);
    assertFalse(skipped.reason().contains("секрет"));
  }
}
