package io.tern.broker.route;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.store.route.Route;
import io.tern.store.route.RouteChange;
import io.tern.store.topic.Topics;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RoutePublisherTest {
    private static final Route R = new Route("b1", "e1");

    @Test
    void sendsEachChangeKeyedByDeviceInOrderAndCountsWhatKafkaConfirmedOrRefused() {
        MockProducer<String, byte[]> producer = new MockProducer<>(false, null, new StringSerializer(),
                new ByteArraySerializer());
        RoutePublisher p = new RoutePublisher("b1", 10, producer, new SimpleMeterRegistry());
        p.startThread();
        p.publish(RouteChange.connected("a", "r", R, 1));
        p.publish(RouteChange.disconnected("a", "r", R, 2));
        await().atMost(Duration.ofSeconds(30)).until(() -> producer.history().size() == 2);
        List<ProducerRecord<String, byte[]>> sent = producer.history();
        assertEquals(Topics.ROUTES, sent.get(0).topic());
        assertEquals("a:r", sent.get(0).key());
        assertEquals(RouteChange.connected("a", "r", R, 1), RouteChange.decode(sent.get(0).value()));
        assertEquals(RouteChange.disconnected("a", "r", R, 2), RouteChange.decode(sent.get(1).value()));
        producer.completeNext();
        producer.errorNext(new RuntimeException("broker down"));
        assertEquals(1, p.published());
        assertEquals(1, p.failed());
        p.close(Duration.ofSeconds(1));
    }

    @Test
    void aChangeTheFullQueueHasNoRoomForIsDroppedAndCountedWithoutBlocking() {
        MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(),
                new ByteArraySerializer());
        RoutePublisher p = new RoutePublisher("b1", 2, producer, new SimpleMeterRegistry()); // thread not started
        for (int i = 0; i < 5; i++) {
            p.publish(RouteChange.connected("a", "r" + i, R, i));
        }
        assertEquals(3, p.dropped());
        p.close(Duration.ofMillis(100));
    }

}
