package io.botengine;

import com.fasterxml.jackson.core.JsonStreamContext;
import net.logstash.logback.mask.ValueMasker;

/**
 * {@link LogSafe#mask} for the JSON log format: every string value the encoder writes (message,
 * stack trace, MDC and argument fields) loses bot tokens, URL credentials and registered secrets,
 * as every text line does through {@link MaskingPatternLayout}.
 */
public final class MaskingValueMasker implements ValueMasker {
  @Override
  public Object mask(JsonStreamContext context, Object value) {
    if (value instanceof CharSequence text) {
      String s = text.toString();
      String masked = LogSafe.mask(s);
      return masked.equals(s) ? null : masked;
    }
    return null;
  }
}
