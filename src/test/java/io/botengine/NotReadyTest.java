package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.botengine.testing.EngineHarness;
import io.botengine.testing.LogCapture;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code /health/ready} of a node that cannot host users says why in JSON: it never became Up
 * (its seed node does not answer) and its journal database cannot be reached.
 */
@ExtendWith(LogCapture.class)
class NotReadyTest {
  @Test
  void saysWhyItIsNotReady() throws Exception {
    try (EngineHarness harness = new EngineHarness()) {
      harness.start(Map.of(
          "bot.cluster.seed-nodes", "127.0.0.1:1",
          "bot.persistence.jdbc-url", "jdbc:postgresql://127.0.0.1:1/nothing",
          "bot.persistence.create-schema", false,
          "bot.ask-timeout", "3s"));
      HttpResponse<String> r = harness.call("GET", "/health/ready", null);
      assertEquals(503, r.statusCode(), r.body());
      JsonNode body = new ObjectMapper().readTree(r.body());
      assertFalse(body.get("ready").asBoolean());
      assertEquals("unreachable", body.get("journal").asText());
      String reasons = body.get("reasons").toString();
      assertTrue(reasons.contains("in the cluster, not up"), reasons);
      assertTrue(reasons.contains("journal"), reasons);
      assertFalse(reasons.contains("Exception\\n\\tat"), "no stack trace");
    }
  }
}
