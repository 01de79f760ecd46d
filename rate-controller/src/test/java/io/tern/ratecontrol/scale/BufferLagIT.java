package io.tern.ratecontrol.scale;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.devstack.Ports;
import io.tern.devstack.SharedInfra;
import io.tern.ratecontrol.ControllerFixture;
import io.tern.ratecontrol.RateController;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The buffer's lag in {@code GET /v1/scale} with autoscaling off ({@code ratecontrol.scale.mode} at its default): a
 * real rate controller reads it from a real Kafka all the same, and says openly when it cannot.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BufferLagIT {
    private static final int DB = 14;

    private static RateController start(String kafkaBootstrap) {
        return RateController.start(RateControllerConfig.from(Settings.of(ControllerFixture.settings("lag1",
                SharedInfra.redis().uri() + "/" + DB, Map.of("ratecontrol.scale.kafka-bootstrap", kafkaBootstrap)))));
    }

    private static JsonNode scale(RateController controller) {
        return ControllerFixture.json(ControllerFixture.call(controller.address().getPort(), "GET", "/v1/scale", null,
                ControllerFixture.TOKEN));
    }

    /** The lag shown, -1 while it is unknown (null). */
    private static long lag(RateController controller) {
        JsonNode lag = scale(controller).path("lag");
        return lag.isNumber() ? lag.asLong() : -1;
    }

    @Test
    void recordsNoConsumerTookAreTheLagWithScalingOff() throws Exception {
        String bootstrap = SharedInfra.kafka().bootstrapServers();
        SharedInfra.kafka().createTopics(Topics.BUFFER);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
             RateController controller = start(bootstrap)) {
            int partitions = admin.describeTopics(List.of(Topics.BUFFER)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(Topics.BUFFER).partitions().size();
            BufferGroup.commitToEnd(admin); // whatever an earlier test left: lag 0
            await().atMost(Duration.ofSeconds(20)).until(() -> lag(controller) == 0);

            BufferGroup.produce(bootstrap, 17);
            await().atMost(Duration.ofSeconds(20)).until(() -> lag(controller) == 17);
            JsonNode shown = scale(controller);
            assertEquals("off", shown.path("mode").asText(), shown.toString());
            assertTrue(shown.path("scaling").isNull(), "nothing is scaled: " + shown);
            assertEquals(partitions, shown.path("partitions").asInt(), shown.toString());
            assertTrue(shown.path("lagError").isNull(), shown.toString());
            String metrics = ControllerFixture.call(controller.address().getPort(), "GET", "/metrics", null,
                    ControllerFixture.TOKEN).body();
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("tern_buffer_backlog") && l.endsWith(" 17.0")), metrics);

            BufferGroup.commitToEnd(admin);
            await().atMost(Duration.ofSeconds(20)).until(() -> lag(controller) == 0);
        }
    }

    @Test
    void anUnreachableKafkaIsAnUnknownLagWithTheReasonNotZero() {
        String nobody = "127.0.0.1:" + Ports.free();
        try (RateController controller = start(nobody)) {
            // The first read gives up after the Admin client's timeout (three refreshes, at least 2 s).
            await().atMost(Duration.ofSeconds(30)).until(() -> scale(controller).path("lagError").textValue() != null
                    && scale(controller).path("lagError").textValue().startsWith("cannot read it from Kafka at " + nobody + ": "));
            JsonNode shown = scale(controller);
            assertTrue(shown.path("lag").isNull(), shown.toString());
            assertTrue(shown.path("partitions").isNull(), shown.toString());
        }
    }
}
