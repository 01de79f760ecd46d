package io.tern.store.task;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one JSON form of a {@link TaskBody}: as the logic node writes it to Kafka {@code tern.bodies} and the
 * disk-KV backup copies it (the record's fields by name; {@code kind} by enum name). Readers ignore fields they do
 * not know, so a newer writer may add some.
 */
public final class TaskBodyJson {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private TaskBodyJson() {
    }

    public static byte[] write(TaskBody body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a task body always serialises", e);
        }
    }

    /** @return the body, or null for null or JSON that is not one */
    public static TaskBody read(String json) {
        if (json == null) {
            return null;
        }
        try {
            TaskBody b = JSON.readValue(json, TaskBody.class);
            return b.taskId() == 0 || b.appId() == null || b.kind() == null ? null : b;
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
