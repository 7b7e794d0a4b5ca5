package io.botengine.sandbox;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Set;

/**
 * Telegram's parse modes (Markdown, MarkdownV2, HTML), checked roughly as the Bot API does: yields
 * the text without markup, or the Bot API's error description.
 */
final class BotApiMarkup {
  private static final String LEGACY_MARKERS = "_*`[";
  private static final String V2_RESERVED = "_*[]()~`>#+-=|{}.!";
  private static final Set<String> HTML_TAGS =
      Set.of(
          "b",
          "strong",
          "i",
          "em",
          "u",
          "ins",
          "s",
          "strike",
          "del",
          "span",
          "tg-spoiler",
          "a",
          "code",
          "pre",
          "blockquote",
          "tg-emoji");

  /** The text could not be parsed; the message is the Bot API's full error description. */
  static final class ParseError extends Exception {
    ParseError(String description) {
      super(description, null, false, false);
    }
  }

  private BotApiMarkup() {}

  /** Returns the text as Telegram would show it, or throws the Bot API's 400 description. */
  static String plainText(String text, String parseMode) throws ParseError {
    if (parseMode == null || parseMode.isEmpty()) {
      return text;
    }
    switch (parseMode.toLowerCase(Locale.ROOT)) {
      case "markdown":
        return markdown(text);
      case "markdownv2":
        return markdownV2(text);
      case "html":
        return html(text);
      default:
        throw new ParseError("Bad Request: unsupported parse_mode");
    }
  }

  private static ParseError entities(String detail) {
    return new ParseError("Bad Request: can't parse entities: " + detail);
  }

  private static int byteOffset(String s, int index) {
    return s.substring(0, index).getBytes(StandardCharsets.UTF_8).length;
  }

  private static String markdown(String s) throws ParseError {
    StringBuilder out = new StringBuilder();
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < n && LEGACY_MARKERS.indexOf(s.charAt(i + 1)) >= 0) {
        out.append(s.charAt(i + 1));
        i += 2;
        continue;
      }
      if (LEGACY_MARKERS.indexOf(c) < 0) {
        out.append(c);
        i++;
        continue;
      }
      ParseError unclosed =
          entities("Can't find end of the entity starting at byte offset " + byteOffset(s, i));
      if (c == '`' && s.startsWith("```", i)) {
        int end = s.indexOf("```", i + 3);
        if (end < 0) {
          throw unclosed;
        }
        out.append(s, i + 3, end);
        i = end + 3;
        continue;
      }
      int end = s.indexOf(c == '[' ? ']' : c, i + 1);
      if (end < 0) {
        throw unclosed;
      }
      out.append(s, i + 1, end);
      i = end + 1;
      if (c == '[' && i < n && s.charAt(i) == '(') {
        int close = s.indexOf(')', i);
        if (close < 0) {
          throw unclosed;
        }
        i = close + 1;
      }
    }
    return out.toString();
  }

  private record Open(String marker, String type, int offset) {
    boolean code() {
      return marker.startsWith("`");
    }

    boolean link() {
      return marker.endsWith("[");
    }
  }

  private static String markdownV2(String s) throws ParseError {
    StringBuilder out = new StringBuilder();
    Deque<Open> stack = new ArrayDeque<>();
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < n && s.charAt(i + 1) >= 1 && s.charAt(i + 1) <= 126) {
        out.append(s.charAt(i + 1));
        i += 2;
        continue;
      }
      Open top = stack.peek();
      if (top != null && top.code()) {
        if (s.startsWith(top.marker(), i)) {
          stack.pop();
          i += top.marker().length();
        } else {
          out.append(c);
          i++;
        }
        continue;
      }
      if (V2_RESERVED.indexOf(c) < 0) {
        out.append(c);
        i++;
        continue;
      }
      if (top != null && !top.link() && s.startsWith(top.marker(), i)) {
        stack.pop();
        i += top.marker().length();
        continue;
      }
      if (c == ']' && top != null && top.link()) {
        stack.pop();
        i = skipUrl(s, i + 1, top);
        continue;
      }
      Open open = opening(s, i);
      if (open != null) {
        stack.push(open);
        i += open.marker().length();
        continue;
      }
      if (c == '>' && (i == 0 || s.charAt(i - 1) == '\n')) {
        i++;
        continue;
      }
      throw entities(
          "Character '" + c + "' is reserved and must be escaped with the preceding '\\'");
    }
    if (!stack.isEmpty()) {
      Open first = stack.peekLast();
      throw entities(
          "Can't find end of " + first.type() + " entity at byte offset " + first.offset());
    }
    return out.toString();
  }

  private static Open opening(String s, int i) {
    int at = byteOffset(s, i);
    if (s.startsWith("```", i)) {
      return new Open("```", "Pre", at);
    }
    if (s.startsWith("__", i)) {
      return new Open("__", "Underline", at);
    }
    if (s.startsWith("||", i)) {
      return new Open("||", "Spoiler", at);
    }
    if (s.startsWith("![", i)) {
      return new Open("![", "CustomEmoji", at);
    }
    switch (s.charAt(i)) {
      case '`':
        return new Open("`", "Code", at);
      case '_':
        return new Open("_", "Italic", at);
      case '*':
        return new Open("*", "Bold", at);
      case '~':
        return new Open("~", "Strikethrough", at);
      case '[':
        return new Open("[", "TextUrl", at);
      default:
        return null;
    }
  }

  private static int skipUrl(String s, int i, Open link) throws ParseError {
    if (i >= s.length() || s.charAt(i) != '(') {
      if (link.type().equals("CustomEmoji")) {
        throw entities("Can't find end of CustomEmoji entity at byte offset " + link.offset());
      }
      return i;
    }
    int j = i + 1;
    while (j < s.length()) {
      char c = s.charAt(j);
      if (c == '\\' && j + 1 < s.length()) {
        j += 2;
      } else if (c == ')') {
        return j + 1;
      } else {
        j++;
      }
    }
    throw entities("Can't find end of a url at byte offset " + byteOffset(s, i));
  }

  private static String html(String s) throws ParseError {
    StringBuilder out = new StringBuilder();
    Deque<String> stack = new ArrayDeque<>();
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c == '&') {
        i = htmlEntity(s, i, out);
        continue;
      }
      if (c != '<') {
        out.append(c);
        i++;
        continue;
      }
      int at = byteOffset(s, i);
      int close = s.indexOf('>', i);
      boolean end = i + 1 < n && s.charAt(i + 1) == '/';
      int nameStart = end ? i + 2 : i + 1;
      int nameEnd = nameStart;
      while (nameEnd < n && isTagChar(s.charAt(nameEnd))) {
        nameEnd++;
      }
      String name = s.substring(nameStart, nameEnd).toLowerCase(Locale.ROOT);
      if (end) {
        if (close < 0) {
          throw entities("Unclosed end tag at byte offset " + at);
        }
        if (stack.isEmpty()) {
          throw entities("Unexpected end tag at byte offset " + at);
        }
        if (!stack.peek().equals(name)) {
          throw entities(
              "Unmatched end tag at byte offset "
                  + at
                  + ", expected \"</"
                  + stack.peek()
                  + ">\", found \"</"
                  + name
                  + ">\"");
        }
        stack.pop();
      } else {
        if (!HTML_TAGS.contains(name)) {
          throw entities("Unsupported start tag \"" + name + "\" at byte offset " + at);
        }
        if (close < 0) {
          throw entities("Unclosed start tag at byte offset " + at);
        }
        stack.push(name);
      }
      i = close + 1;
    }
    if (!stack.isEmpty()) {
      throw entities("Can't find end tag corresponding to start tag \"" + stack.peek() + "\"");
    }
    return out.toString();
  }

  private static boolean isTagChar(char c) {
    return Character.isLetterOrDigit(c) || c == '-';
  }

  private static int htmlEntity(String s, int i, StringBuilder out) {
    int semi = s.indexOf(';', i);
    if (semi > i + 1 && semi - i <= 10) {
      String name = s.substring(i + 1, semi);
      String decoded =
          switch (name) {
            case "lt" -> "<";
            case "gt" -> ">";
            case "amp" -> "&";
            case "quot" -> "\"";
            default -> numericEntity(name);
          };
      if (decoded != null) {
        out.append(decoded);
        return semi + 1;
      }
    }
    out.append('&');
    return i + 1;
  }

  private static String numericEntity(String name) {
    try {
      if (name.startsWith("#x") || name.startsWith("#X")) {
        return Character.toString(Integer.parseInt(name.substring(2), 16));
      }
      if (name.startsWith("#")) {
        return Character.toString(Integer.parseInt(name.substring(1)));
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    return null;
  }
}
