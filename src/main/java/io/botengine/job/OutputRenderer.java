package io.botengine.job;

import io.botengine.telegram.Outgoing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one Runner output into the Telegram messages that carry it: texts longer than Telegram's
 * 4096 characters are split at a paragraph, else a line, else a word boundary (never inside a
 * surrogate pair); a caption longer than 1024 characters moves into a following message; an empty
 * output sends nothing.
 */
public final class OutputRenderer {
  static final int MAX_TEXT = 4096;
  static final int MAX_CAPTION = 1024;
  static final String MARKDOWN = "Markdown";

  private OutputRenderer() {}

  /** The messages for {@code output}, in the order they must be sent. */
  public static List<Outgoing> render(RunnerFrame.Output output) {
    String content = output.content() == null ? "" : output.content();
    List<Outgoing> parts = new ArrayList<>();
    if (output.kind() == RunnerFrame.Kind.TEXT) {
      for (String piece : split(content, MAX_TEXT)) {
        parts.add(new Outgoing.Text(piece, MARKDOWN));
      }
      return parts;
    }
    if (content.isEmpty()) {
      return parts;
    }
    String caption = output.caption() == null || output.caption().isBlank() ? null : output.caption();
    String overflow = null;
    if (caption != null && caption.length() > MAX_CAPTION) {
      overflow = caption;
      caption = null;
    }
    parts.add(new Outgoing.Document(output.fileName(), content.getBytes(StandardCharsets.UTF_8),
        caption));
    if (overflow != null) {
      for (String piece : split(overflow, MAX_TEXT)) {
        parts.add(Outgoing.Text.plain(piece));
      }
    }
    return parts;
  }

  /** Splits {@code text} into pieces of at most {@code max} chars at the best boundary. */
  static List<String> split(String text, int max) {
    List<String> pieces = new ArrayList<>();
    String rest = text;
    while (rest.length() > max) {
      int cut = boundary(rest, max);
      String piece = rest.substring(0, cut).stripTrailing();
      if (!piece.isEmpty()) {
        pieces.add(piece);
      }
      rest = rest.substring(cut).stripLeading();
    }
    if (!rest.isBlank()) {
      pieces.add(rest);
    }
    return pieces;
  }

  private static int boundary(String text, int max) {
    String window = text.substring(0, max + 1);
    int min = max / 2;
    for (String sep : new String[] {"\n\n", "\n", " "}) {
      int at = window.lastIndexOf(sep, max - sep.length());
      if (at >= min) {
        return at + sep.length();
      }
    }
    return Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
  }
}
