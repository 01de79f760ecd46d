package io.tern.ops.cli.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatusViewTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode REGIONS = json("{'version':4,'regions':["
            + "{'name':'north','state':'failing-over','servedBy':'north','brokers':2,'connections':1200,"
            + "'move':{'direction':'failover','to':'south'}},"
            + "{'name':'south','state':'active','servedBy':'south','brokers':1,'connections':300}]}");
    private static final JsonNode THROTTLE = json("{'directive':{'version':7,'state':'open','permitPerSecond':3000,"
            + "'source':'controller'},'capacityPerSecond':3000,'downstreamPerSecond':450.4,'utilisation':0.15,"
            + "'regions':[{'name':'north','brokers':2,'capacityPerSecond':2000,'downstreamPerSecond':400.2},"
            + "{'name':'south','brokers':1,'capacityPerSecond':1000,'downstreamPerSecond':50.2}],"
            + "'leader':'rc1','heartbeatAgeMillis':400}");
    private static final JsonNode SCALE = json("{'mode':'local','replicas':2,'targetReplicas':3,'lag':12345,'partitions':8}");

    private static JsonNode json(String s) {
        try {
            return JSON.readTree(s.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void oneScreenJoinsTheSchedulersRegionsWithTheControllersLoad() {
        String text = StatusView.render(REGIONS, THROTTLE, SCALE, Map.of());
        String[] lines = text.split(System.lineSeparator());
        assertTrue(lines[0].startsWith("REGION"), text);
        assertTrue(lines[1].matches("north\\s+failing-over\\s+north\\s+2\\s+1,200\\s+400\\s+2,000\\s+failover to south"), lines[1]);
        assertTrue(lines[2].matches("south\\s+active\\s+south\\s+1\\s+300\\s+50\\s+1,000"), lines[2]);
        assertTrue(lines[3].matches("total\\s+3\\s+1,500\\s+450\\s+3,000"), lines[3]);
        assertTrue(text.contains("throttle   OPEN: permit 3,000 deliveries/s (platform-wide), version 7, set by controller"), text);
        assertTrue(text.contains("load       450 of capacity 3,000 deliveries/s (15 %)"), text);
        assertTrue(text.contains("buffer     lag 12,345 records over 8 partitions; bypass consumers 2 running, target 3 (local)"), text);
        assertTrue(text.contains("rate controller leader rc1 (heartbeat 0.4 s ago); region policy version 4"), text);
        assertFalse(text.contains("UNAVAILABLE"), text);
    }

    @Test
    void aPartThatDidNotAnswerIsSaidAndTheRestStillShows() {
        String text = StatusView.render(null, THROTTLE, SCALE, Map.of("regions", "cannot reach the global scheduler"));
        assertTrue(text.contains("regions: UNAVAILABLE: cannot reach the global scheduler"), text);
        String north = text.lines().filter(l -> l.startsWith("north")).findFirst().orElseThrow();
        assertTrue(north.matches("north\\s+-\\s+-\\s+2\\s+-\\s+400\\s+2,000"), north);
        assertTrue(text.contains("throttle   OPEN"), text);
    }

    @Test
    void aLagTheControllerCouldNotReadIsUnknownWithItsReasonNotZero() {
        JsonNode unread = json("{'mode':'off','replicas':null,'targetReplicas':null,'lag':null,'partitions':null,"
                + "'lagError':'cannot read it from Kafka at k:9092: TimeoutException'}");
        String text = StatusView.render(REGIONS, THROTTLE, unread, Map.of());
        assertTrue(text.contains("buffer     lag unknown: cannot read it from Kafka at k:9092: TimeoutException; "
                + "bypass consumers - running, target - (off)"), text);
    }

    @Test
    void statusTakesOnlyTheApiUrlsTheTokenAndTheOutput() throws Exception {
        StatusArgs a = StatusArgs.parse(List.of("--scheduler", "http://s:1", "--output", "json"),
                Map.of("TERN_SRE_TOKEN", "t", "TERN_CONTROLLER_URL", "http://c:2"));
        assertEquals("http://s:1", a.scheduler().toString());
        assertEquals("http://c:2", a.controller().toString());
        assertTrue(a.json());
        assertThrows(Exception.class, () -> StatusArgs.parse(List.of("regions"), Map.of("TERN_SRE_TOKEN", "t")));
        assertThrows(Exception.class, () -> StatusArgs.parse(List.of("--logic", "http://l:1"), Map.of("TERN_SRE_TOKEN", "t")));
        assertThrows(Exception.class, () -> StatusArgs.parse(List.of(), Map.of()), "no token");
    }
}
