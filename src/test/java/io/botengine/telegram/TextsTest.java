package io.botengine.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class TextsTest {
  @Test
  void formatsDatesAsUsersReadThem() {
    assertEquals("01.01.2027 00:00 UTC", Texts.date(Instant.parse("2027-01-01T00:00:00Z")));
    assertEquals("31.12.9999 23:59 UTC", Texts.date(Instant.parse("9999-12-31T23:59:59Z")));
  }

  @Test
  void formatsEveryInstantWithoutThrowing() {
    assertEquals("+1000000000-12-31T23:59:59.999999999Z", Texts.date(Instant.MAX));
    assertEquals("-1000000000-01-01T00:00:00Z", Texts.date(Instant.MIN));
    assertEquals("+1000000000-01-01T00:00:00Z",
        Texts.date(Instant.parse("+1000000000-01-01T00:00:00Z")));
  }
}
