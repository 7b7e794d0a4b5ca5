package io.botengine;

import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What may go into a log line. {@link #text} escapes and truncates user-controlled text so that it
 * cannot forge or flood lines; {@link #url} hides the credentials of a URL; {@link #mask} removes
 * bot tokens, URL credentials and the secrets {@link #secret registered} at start from a whole
 * formatted line ({@link MaskingPatternLayout} applies it to every line, the libraries' included).
 */
public final class LogSafe {
  /** Characters of user text kept in a log line; the rest is cut with "…(N chars)". */
  public static final int MAX_TEXT = 200;

  private static final Pattern BOT_TOKEN = Pattern.compile("(bot)?\\d{5,}:[A-Za-z0-9_-]{8,}");
  private static final Pattern URL_CREDENTIALS =
      Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^/\\s@:]*:[^/\\s@]*@");
  private static final int MIN_SECRET = 6;
  private static final Set<String> SECRETS = new CopyOnWriteArraySet<>();

  private LogSafe() {}

  /** Adds a secret (token, key) that {@link #mask} replaces wherever it appears; short ones are ignored. */
  public static void secret(String value) {
    if (value != null && value.length() >= MIN_SECRET) {
      SECRETS.add(value);
    }
  }

  /** {@code text} with control characters escaped ({@code \n}, {@code \u0007}), quoted, and cut. */
  public static String text(String text) {
    return text(text, MAX_TEXT);
  }

  /** As {@link #text(String)}, keeping at most {@code max} characters of the text. */
  public static String text(String text, int max) {
    if (text == null) {
      return "null";
    }
    int keep = Math.min(text.length(), max);
    StringBuilder out = new StringBuilder(keep + 16).append('"');
    for (int i = 0; i < keep; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
    if (text.length() > keep) {
      out.append("…(").append(text.length()).append(" chars)");
    }
    return out.toString();
  }

  /** {@code url} with any {@code user:password@} replaced by {@code ***@}. */
  public static String url(String url) {
    if (url == null) {
      return null;
    }
    return URL_CREDENTIALS.matcher(url).replaceAll(m -> Matcher.quoteReplacement(m.group(1)) + "***@");
  }

  /** {@code line} without bot tokens, URL credentials or registered secrets. */
  public static String mask(String line) {
    if (line == null || line.isEmpty()) {
      return line;
    }
    String out = line;
    for (String secret : SECRETS) {
      if (out.contains(secret)) {
        out = out.replace(secret, "***");
      }
    }
    // Every line has a ':' (its time), so the patterns run only where they can match: the
    // URL pattern's scan cost a whole percent of the engine's CPU on lines without a URL.
    if (mayHoldToken(out)) {
      out = BOT_TOKEN.matcher(out).replaceAll(m -> m.group(1) == null ? "***" : "bot***");
    }
    if (out.indexOf('@') >= 0 && out.contains("://")) {
      out = url(out);
    }
    return out;
  }

  /** Whether some ':' in {@code line} follows five digits, as in every bot token. */
  private static boolean mayHoldToken(String line) {
    for (int colon = line.indexOf(':'); colon >= 0; colon = line.indexOf(':', colon + 1)) {
      int digits = 0;
      while (digits < 5 && colon - digits > 0 && isDigit(line.charAt(colon - digits - 1))) {
        digits++;
      }
      if (digits == 5) {
        return true;
      }
    }
    return false;
  }

  /** What {@code \d} matches in {@link #BOT_TOKEN}: ASCII digits only. */
  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
