package io.botengine.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a Prometheus text scrape of {@code GET /metrics}. */
public final class Scrape {
  private Scrape() {}

  /** The value of the sample {@code series} (name and labels as printed), 0 when absent. */
  public static double value(String scrape, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
