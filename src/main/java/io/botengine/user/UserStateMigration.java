package io.botengine.user;

import akka.serialization.jackson.JacksonMigration;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads snapshots of {@link UserState} written before the conversation became a sealed type:
 * version 1 had a {@code stage} enum next to a nullable {@code job}. A {@code PROCESSING} stage
 * without a job (which version 1 could represent) becomes idle.
 */
public final class UserStateMigration extends JacksonMigration {

  @Override
  public int currentVersion() {
    return 2;
  }

  @Override
  public JsonNode transform(int fromVersion, JsonNode json) {
    if (fromVersion >= 2 || !(json instanceof ObjectNode state)) {
      return json;
    }
    JsonNode job = state.remove("job");
    String stage = state.path("stage").asText("IDLE");
    state.remove("stage");
    ObjectNode conversation = JsonNodeFactory.instance.objectNode();
    if ("PROCESSING".equals(stage) && job != null && job.isObject()) {
      conversation.put("type", "processing");
      conversation.set("job", job);
    } else if ("WAITING_FOR_FILE".equals(stage)) {
      conversation.put("type", "waiting_for_file");
    } else {
      conversation.put("type", "idle");
    }
    state.set("conversation", conversation);
    return state;
  }
}
