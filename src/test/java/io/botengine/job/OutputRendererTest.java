package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.telegram.Outgoing;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutputRendererTest {
  private static RunnerFrame.Output text(String content) {
    return new RunnerFrame.Output(1L, RunnerFrame.Kind.TEXT, content, null, null);
  }

  private static List<String> pieces(String content) {
    return OutputRenderer.render(text(content)).stream()
        .map(o -> ((Outgoing.Text) o).text())
        .toList();
  }

  @Test
  void sendsAShortTextAsOneMarkdownMessage() {
    List<Outgoing> parts = OutputRenderer.render(text("*Анализ* готов"));
    assertEquals(List.of(new Outgoing.Text("*Анализ* готов", "Markdown")), parts);
  }

  @Test
  void sendsNothingForEmptyContent() {
    assertTrue(OutputRenderer.render(text("")).isEmpty());
    assertTrue(OutputRenderer.render(
        new RunnerFrame.Output(1L, RunnerFrame.Kind.FILE, "", "a.md", "c")).isEmpty());
  }

  @Test
  void splitsLongCyrillicTextAtParagraphsKeepingEveryCharacter() {
    String paragraph = "Опыт работы: ".repeat(150).strip();
    String content = paragraph + "\n\n" + paragraph + "\n\n" + paragraph;
    List<String> pieces = pieces(content);
    assertTrue(pieces.size() >= 2);
    pieces.forEach(p -> assertTrue(p.length() <= 4096, "piece of " + p.length()));
    assertEquals(content.replaceAll("\\s+", ""), String.join("", pieces).replaceAll("\\s+", ""));
    assertTrue(pieces.get(0).endsWith("работы:"), "cut at a paragraph end");
  }

  @Test
  void neverCutsASurrogatePair() {
    String content = "😀".repeat(3000);
    List<String> pieces = pieces(content);
    for (String p : pieces) {
      assertTrue(p.length() <= 4096);
      assertFalse(Character.isLowSurrogate(p.charAt(0)), "starts inside an emoji");
      assertFalse(Character.isHighSurrogate(p.charAt(p.length() - 1)), "ends inside an emoji");
    }
    assertEquals(content, String.join("", pieces));
  }

  @Test
  void neverCutsInsideAMarkdownEntity() {
    String bold = "*" + "жирный текст ".repeat(40).strip() + "*";
    String content = "Начало. " + "слово ".repeat(600) + bold + " конец " + "ещё ".repeat(600);
    for (String p : pieces(content)) {
      assertEquals(0, p.chars().filter(c -> c == '*').count() % 2, "balanced bold in: " + p);
    }
    String block = "```\n" + "code line\n".repeat(100) + "```";
    String withBlock = "x ".repeat(1900) + block + " tail";
    for (String p : pieces(withBlock)) {
      assertEquals(0, (p.length() - p.replace("```", "").length()) / 3 % 2, "balanced block");
    }
  }

  @Test
  void sendsAFileWithItsCaption() {
    List<Outgoing> parts = OutputRenderer.render(new RunnerFrame.Output(
        3L, RunnerFrame.Kind.FILE, "## Отчёт", "cv_analysis.md", "Результат анализа"));
    Outgoing.Document doc = assertInstanceOf(Outgoing.Document.class, parts.get(0));
    assertEquals("cv_analysis.md", doc.fileName());
    assertEquals("Результат анализа", doc.caption());
    assertEquals("## Отчёт", new String(doc.content(), StandardCharsets.UTF_8));
    assertEquals(1, parts.size());
  }

  @Test
  void movesALongCaptionIntoAFollowingMessage() {
    String caption = "Подпись ".repeat(200);
    List<Outgoing> parts = OutputRenderer.render(
        new RunnerFrame.Output(3L, RunnerFrame.Kind.FILE, "x", "a.md", caption));
    assertNull(((Outgoing.Document) parts.get(0)).caption());
    assertEquals(caption.strip(), ((Outgoing.Text) parts.get(1)).text());
  }

  @Test
  void makesFileNamesSafe() {
    assertEquals("result.md", RunnerFrame.safeFileName(null));
    String name = RunnerFrame.safeFileName("../../etc/passwd");
    assertFalse(name.contains("/") || name.contains(".."), name);
    assertFalse(RunnerFrame.safeFileName("a\u0000b\nc.md").matches(".*\\p{Cntrl}.*"));
    assertTrue(RunnerFrame.safeFileName("я".repeat(500) + ".md").length() <= 128);
  }
}
