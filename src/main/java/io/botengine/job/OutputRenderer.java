package io.botengine.job;

import io.botengine.telegram.Outgoing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one Runner output into the Telegram messages that carry it: texts longer than Telegram's
 * 4096 characters are split at a paragraph, else a line, else a word boundary, never inside a
 * surrogate pair or a Markdown entity; a caption longer than 1024 characters moves into a following message; an empty
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
      pieces.add(rest.strip());
    }
    return pieces;
  }

  private static int boundary(String text, int max) {
    boolean[] safe = safeCuts(text, max);
    int min = max / 2;
    for (String sep : new String[] {"\n\n", "\n", " "}) {
      for (int at = text.lastIndexOf(sep, max - sep.length()); at >= min;
          at = text.lastIndexOf(sep, at - 1)) {
        if (safe[at + sep.length()]) {
          return at + sep.length();
        }
      }
    }
    for (int cut = max; cut > 0; cut--) {
      if (safe[cut]) {
        return cut;
      }
    }
    return Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
  }

  /**
   * For each index up to {@code max}: may the text be cut before it? Not inside a surrogate pair,
   * and not inside a Markdown entity (bold, italic, inline code, a code block, a link).
   */
  static boolean[] safeCuts(String text, int max) {
    boolean[] safe = new boolean[max + 1];
    char open = 0;
    boolean pre = false;
    boolean code = false;
    boolean link = false;
    int i = 0;
    while (i <= max && i < text.length()) {
      safe[i] = open == 0 && !pre && !code && !link && !Character.isLowSurrogate(text.charAt(i));
      if (text.startsWith("```", i) && !code) {
        pre = !pre;
        i += 3;
        continue;
      }
      char c = text.charAt(i);
      if (!pre) {
        if (c == '`') {
          code = !code;
        } else if (!code && link) {
          link = !(c == ')' || c == ']' && !text.startsWith("](", i));
        } else if (!code && (c == '*' || c == '_')) {
          open = open == c ? 0 : open == 0 ? c : open;
        } else if (!code && c == '[' && open == 0) {
          link = true;
        }
      }
      i++;
    }
    if (i <= max) {
      safe[Math.min(i, max)] = open == 0 && !pre && !code && !link;
    }
    return safe;
  }
}
