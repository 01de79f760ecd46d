package io.tern.ops.cli.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskViewTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long CREATED = 1_700_000_000_000L;

    private static JsonNode task(String state, long targeted, long delivered, long expired, long invalid) {
        return JSON.createObjectNode().put("taskId", "7").put("appId", "news").put("state", state)
                .put("targeted", targeted).put("sent", delivered).put("delivered", delivered).put("offline", 0)
                .put("expired", expired).put("invalid", invalid).put("createdAt", CREATED);
    }

    @Test
    void progressCountsDeliveredAndExpiredOfTheValidTargets() {
        JsonNode t = task("sending", 1010, 400, 100, 10);
        assertEquals(0.5, TaskView.fraction(t), 1e-9);
        String line = TaskView.progress(t, Instant.ofEpochMilli(CREATED + 75_000));
        assertTrue(line.startsWith("task 7 sending [###############...............]  50%"), line);
        assertTrue(line.contains("of 1,000 valid"), line);
        assertTrue(line.endsWith("01:15"), line);
        assertFalse(TaskView.progress(t, null).contains("01:15"), "the key for plain output has no elapsed time");
    }

    @Test
    void aTaskIsSettledWhenEveryCopyIsDeliveredOrExpiredOrWhenRecalledOrFailed() {
        assertFalse(TaskView.settled(task("sending", 10, 9, 0, 0)));
        assertTrue(TaskView.settled(task("sending", 10, 9, 1, 0)));
        assertFalse(TaskView.settled(task("created", 0, 0, 0, 0)), "waiting for a push call");
        assertFalse(TaskView.settled(task("resolving", 10, 10, 0, 0)), "more targets may come");
        assertTrue(TaskView.settled(task("recalled", 10, 2, 0, 0)));
        assertTrue(TaskView.settled(task("failed", 0, 0, 0, 0)));
        assertEquals(1.0, TaskView.fraction(task("failed", 0, 0, 0, 0)));
    }

    @Test
    void showAndRecallSayWhoseTaskItIs() {
        String shown = TaskView.show(task("sending", 3, 1, 0, 0));
        assertTrue(shown.startsWith("task 7 of app news: sending"), shown);
        assertTrue(shown.contains("delivered      1"), shown);
        assertEquals("task 7 of app news recalled: 12 undelivered copies will not be delivered",
                TaskView.recalled(JSON.createObjectNode().put("taskId", "7").put("appId", "news").put("pending", 12)));
        assertEquals("task 7 of app news was already recalled", TaskView.recalled(JSON.createObjectNode()
                .put("taskId", "7").put("appId", "news").put("alreadyRecalled", true)));
    }
}
