package io.botengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Docker cannot run here, so the monitoring part of {@code docker/} is checked as files: the
 * compose file, Prometheus' and Grafana's configuration parse, Prometheus scrapes every engine
 * service on its HTTP port, and the dashboard queries only metrics that docs/operations.md lists.
 */
class DockerConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** SnakeYAML (it resolves the compose file's anchors and merge keys), as a JSON tree. */
  private static JsonNode yaml(String path) throws IOException {
    Object parsed = new org.yaml.snakeyaml.Yaml().load(Files.readString(Path.of(path)));
    return JSON.valueToTree(parsed);
  }

  @Test
  void prometheusScrapesEveryEngineOfTheComposeFile() throws IOException {
    JsonNode compose = yaml("docker/docker-compose.yml");
    JsonNode services = compose.get("services");
    List<String> engines = new ArrayList<>();
    services.fieldNames().forEachRemaining(n -> {
      if (n.startsWith("engine-")) {
        engines.add(n);
      }
    });
    assertEquals(3, engines.size());
    assertTrue(services.has("prometheus") && services.has("grafana"));
    assertTrue(services.get("prometheus").get("volumes").toString()
        .contains("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml"));

    JsonNode prometheus = yaml("docker/prometheus/prometheus.yml");
    JsonNode job = prometheus.get("scrape_configs").get(0);
    assertEquals("/metrics", job.get("metrics_path").asText());
    List<String> targets = new ArrayList<>();
    job.get("static_configs").get(0).get("targets").forEach(t -> targets.add(t.asText()));
    for (String engine : engines) {
      String port = services.get(engine).get("environment").get("HTTP_PORT").asText();
      assertTrue(targets.contains(engine + ":" + port), engine + " is not scraped: " + targets);
    }
  }

  @Test
  void grafanaIsProvisionedWithTheDashboard() throws IOException {
    JsonNode datasource = yaml("docker/grafana/provisioning/datasources/prometheus.yml");
    assertEquals("http://prometheus:9090", datasource.get("datasources").get(0).get("url").asText());
    JsonNode provider = yaml("docker/grafana/provisioning/dashboards/bot-engine.yml");
    assertEquals("/var/lib/grafana/dashboards",
        provider.get("providers").get(0).get("options").get("path").asText());
    JsonNode dashboard = JSON.readTree(Path.of("docker/grafana/bot-engine.json").toFile());
    assertEquals("bot-engine", dashboard.get("uid").asText());
    assertTrue(dashboard.get("panels").size() >= 10);
  }

  @Test
  void theDashboardQueriesOnlyDocumentedMetrics() throws IOException {
    String dashboard = Files.readString(Path.of("docker/grafana/bot-engine.json"));
    String operations = Files.readString(Path.of("docs/operations.md"));
    Set<String> used = new TreeSet<>();
    Matcher m = Pattern.compile("botengine_[a-z_]+").matcher(dashboard);
    while (m.find()) {
      used.add(m.group().replaceAll("_bucket$", ""));
    }
    assertFalse(used.isEmpty());
    for (String metric : used) {
      assertTrue(operations.contains("`" + metric), metric + " is not in docs/operations.md");
    }
  }
}
