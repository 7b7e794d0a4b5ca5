package io.botengine.telegram;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.ResourceBundle;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The texts users see, one resource file per language ({@code texts_ru.properties},
 * {@code texts_en.properties}); chosen by the user's Telegram {@code language_code}, Russian by
 * default. Placeholders are {@code {0}}, {@code {1}}, ...
 */
public final class Texts {
  private static final Map<String, Texts> BY_LANGUAGE = new ConcurrentHashMap<>();
  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("dd.MM.yyyy HH:mm 'UTC'").withZone(ZoneOffset.UTC);
  private final ResourceBundle bundle;
  private final boolean russianPlurals;

  private Texts(String language) {
    this.bundle = ResourceBundle.getBundle("texts", Locale.forLanguageTag(language), NO_FALLBACK);
    this.russianPlurals = "ru".equals(bundle.getLocale().getLanguage());
  }

  private static final ResourceBundle.Control NO_FALLBACK =
      ResourceBundle.Control.getNoFallbackControl(ResourceBundle.Control.FORMAT_PROPERTIES);

  /** Texts for a Telegram language code; English for "en*", Russian otherwise. */
  public static Texts of(String languageCode) {
    String language =
        languageCode != null && languageCode.toLowerCase(Locale.ROOT).startsWith("en") ? "en" : "ru";
    return BY_LANGUAGE.computeIfAbsent(language, Texts::new);
  }

  /** The text under {@code key} with its placeholders filled. */
  public String get(String key, Object... args) {
    String text = bundle.getString(key);
    for (int i = 0; i < args.length; i++) {
      text = text.replace("{" + i + "}", String.valueOf(args[i]));
    }
    return text;
  }

  /**
   * "01.01.2027 00:00 UTC"; never throws: an instant past what a calendar date holds (a journal may
   * carry one from before the admin API bounded dates) shows in ISO form.
   */
  public static String date(Instant instant) {
    try {
      return DATE.format(instant);
    } catch (DateTimeException e) {
      return instant.toString();
    }
  }

  /** "1 токен", "3 токена", "5 токенов" (or the English forms). */
  public String tokens(long count) {
    return get(pluralKey(count), count);
  }

  private String pluralKey(long count) {
    long n = Math.abs(count);
    if (!russianPlurals) {
      return n == 1 ? "tokens.one" : "tokens.many";
    }
    long lastTwo = n % 100;
    long last = n % 10;
    if (last == 1 && lastTwo != 11) {
      return "tokens.one";
    }
    if (last >= 2 && last <= 4 && (lastTwo < 12 || lastTwo > 14)) {
      return "tokens.few";
    }
    return "tokens.many";
  }
}
