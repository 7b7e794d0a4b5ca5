package io.botengine.webapp;

import com.fasterxml.jackson.databind.JsonNode;
import io.botengine.Json;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks a Telegram Mini App's {@code initData} as Telegram specifies: {@code secret_key =
 * HMAC_SHA256(key="WebAppData", msg=bot_token)}; the data check string is every field but {@code
 * hash}, sorted by key, {@code key=value} joined by {@code \n}; the data is genuine when the hex
 * {@code HMAC_SHA256(secret_key, data_check_string)} equals {@code hash} (compared in constant
 * time). An {@code auth_date} older than {@code maxAge} is refused. The answer is the user's id, or
 * nothing: why it failed is not told (callers answer 401 alike).
 */
public final class InitData {
  private static final String HMAC = "HmacSHA256";

  private final byte[] secretKey;
  private final Duration maxAge;
  private final Clock clock;

  public InitData(String botToken, Duration maxAge, Clock clock) {
    this.secretKey = hmac("WebAppData".getBytes(StandardCharsets.UTF_8), botToken);
    this.maxAge = maxAge;
    this.clock = clock;
  }

  /** The id of the Telegram user the data was signed for, if it is genuine and recent. */
  public Optional<Long> userId(String initData) {
    if (initData == null || initData.isEmpty()) {
      return Optional.empty();
    }
    TreeMap<String, String> fields = new TreeMap<>();
    for (String pair : initData.split("&")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        return Optional.empty();
      }
      String key;
      String value;
      try {
        key = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
        value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException malformed) {
        return Optional.empty();
      }
      if (fields.put(key, value) != null) {
        return Optional.empty();
      }
    }
    String hash = fields.remove("hash");
    if (hash == null || !fields.containsKey("auth_date") || !fields.containsKey("user")) {
      return Optional.empty();
    }
    StringBuilder check = new StringBuilder();
    fields.forEach((k, v) -> check.append(check.length() == 0 ? "" : "\n").append(k).append('=')
        .append(v));
    byte[] expected = HexFormat.of().formatHex(hmac(secretKey, check.toString()))
        .getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, hash.toLowerCase().getBytes(StandardCharsets.US_ASCII))) {
      return Optional.empty();
    }
    try {
      Instant signed = Instant.ofEpochSecond(Long.parseLong(fields.get("auth_date")));
      if (signed.plus(maxAge).isBefore(clock.instant())) {
        return Optional.empty();
      }
      JsonNode id = Json.MAPPER.readTree(fields.get("user")).path("id");
      return id.canConvertToLong() && id.isIntegralNumber()
          ? Optional.of(id.asLong())
          : Optional.empty();
    } catch (Exception malformed) {
      return Optional.empty();
    }
  }

  /**
   * Signs {@code initData} fields as Telegram would for a bot with this token (the sandbox signs
   * its own page's data this way); the fields are given unencoded, the result is a query string.
   */
  public static String sign(String botToken, TreeMap<String, String> fields) {
    StringBuilder check = new StringBuilder();
    StringBuilder query = new StringBuilder();
    fields.forEach((k, v) -> {
      check.append(check.length() == 0 ? "" : "\n").append(k).append('=').append(v);
      query.append(query.length() == 0 ? "" : "&").append(encode(k)).append('=')
          .append(encode(v));
    });
    byte[] secret = hmac("WebAppData".getBytes(StandardCharsets.UTF_8), botToken);
    return query + "&hash=" + HexFormat.of().formatHex(hmac(secret, check.toString()));
  }

  private static String encode(String s) {
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static byte[] hmac(byte[] key, String message) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
    }
  }
}
