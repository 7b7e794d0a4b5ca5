package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void doublesFromMinUpToMax() {
    Backoff backoff = Backoff.of(Duration.ofMillis(100), Duration.ofSeconds(1));
    assertEquals(Duration.ofMillis(100), backoff.delay(0));
    assertEquals(Duration.ofMillis(200), backoff.delay(1));
    assertEquals(Duration.ofMillis(800), backoff.delay(3));
    assertEquals(Duration.ofSeconds(1), backoff.delay(4));
    assertEquals(Duration.ofSeconds(1), backoff.delay(1_000));
  }

  @Test
  void randomFactorOnlyStretches() {
    Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 0.5);
    for (int i = 0; i < 200; i++) {
      long millis = backoff.delay(10).toMillis();
      assertTrue(millis >= 1_000 && millis <= 1_500, millis + " ms");
    }
  }

  @Test
  void refusesMaxBelowMin() {
    assertThrows(
        IllegalArgumentException.class,
        () -> Backoff.of(Duration.ofSeconds(2), Duration.ofSeconds(1)));
  }
}
