package io.botengine.webapp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class InitDataTest {
  private static final String TOKEN = "123456:test-token";
  private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
  private static final InitData CHECK =
      new InitData(TOKEN, Duration.ofHours(24), Clock.fixed(NOW, ZoneOffset.UTC));

  private static TreeMap<String, String> fields(Instant signedAt) {
    TreeMap<String, String> f = new TreeMap<>();
    f.put("query_id", "AAHdF6IQAAAAAN0XohDhrOrc");
    f.put("user", "{\"id\":279058397,\"first_name\":\"Vladislav\",\"language_code\":\"ru\"}");
    f.put("auth_date", Long.toString(signedAt.getEpochSecond()));
    return f;
  }

  @Test
  void acceptsDataSignedWithTheBotsTokenAndNamesItsUser() {
    String data = InitData.sign(TOKEN, fields(NOW.minusSeconds(60)));
    assertEquals(Optional.of(279058397L), CHECK.userId(data));
  }

  /** A signature made by hand from Telegram's recipe, independent of {@link InitData#sign}. */
  @Test
  void acceptsAHashComputedAsTelegramDocumentsIt() throws Exception {
    TreeMap<String, String> f = fields(NOW.minusSeconds(60));
    String check = "auth_date=" + f.get("auth_date") + "\nquery_id=" + f.get("query_id")
        + "\nuser=" + f.get("user");
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec("WebAppData".getBytes(), "HmacSHA256"));
    byte[] secret = mac.doFinal(TOKEN.getBytes());
    mac.init(new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA256"));
    String hash = java.util.HexFormat.of().formatHex(mac.doFinal(check.getBytes()));
    String data = "auth_date=" + f.get("auth_date") + "&query_id=" + f.get("query_id") + "&user="
        + java.net.URLEncoder.encode(f.get("user"), "UTF-8") + "&hash=" + hash;
    assertEquals(Optional.of(279058397L), CHECK.userId(data));
  }

  @Test
  void refusesAForgedHash() {
    String data = InitData.sign(TOKEN, fields(NOW.minusSeconds(60)));
    char last = data.charAt(data.length() - 1);
    String forged = data.substring(0, data.length() - 1) + (last == '0' ? '1' : '0');
    assertTrue(CHECK.userId(forged).isEmpty());
  }

  @Test
  void refusesAnotherUserSwappedIntoSignedData() {
    String data = InitData.sign(TOKEN, fields(NOW.minusSeconds(60)));
    String other = data.replace("279058397", "279058398");
    assertTrue(CHECK.userId(other).isEmpty());
  }

  @Test
  void refusesDataOlderThanTheMaximumAge() {
    assertTrue(CHECK.userId(InitData.sign(TOKEN, fields(NOW.minus(Duration.ofHours(25)))))
        .isEmpty());
    assertEquals(Optional.of(279058397L),
        CHECK.userId(InitData.sign(TOKEN, fields(NOW.minus(Duration.ofHours(23))))));
  }

  @Test
  void refusesDataSignedWithAnotherBotsToken() {
    assertTrue(CHECK.userId(InitData.sign("654321:other-bot", fields(NOW.minusSeconds(60))))
        .isEmpty());
  }

  @Test
  void refusesDataWithFieldsMissing() {
    for (String missing : new String[] {"user", "auth_date"}) {
      TreeMap<String, String> f = fields(NOW.minusSeconds(60));
      f.remove(missing);
      assertTrue(CHECK.userId(InitData.sign(TOKEN, f)).isEmpty(), missing);
    }
    String data = InitData.sign(TOKEN, fields(NOW.minusSeconds(60)));
    assertTrue(CHECK.userId(data.substring(0, data.indexOf("&hash="))).isEmpty(), "hash");
    assertTrue(CHECK.userId("").isEmpty());
    assertTrue(CHECK.userId(null).isEmpty());
    assertTrue(CHECK.userId("garbage").isEmpty());
  }

  @Test
  void refusesAUserWithoutANumericId() {
    TreeMap<String, String> f = fields(NOW.minusSeconds(60));
    f.put("user", "{\"first_name\":\"x\"}");
    assertTrue(CHECK.userId(InitData.sign(TOKEN, f)).isEmpty());
  }
}
