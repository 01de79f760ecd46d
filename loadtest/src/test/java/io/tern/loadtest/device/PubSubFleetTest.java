package io.tern.loadtest.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.loadtest.process.ChildIo;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PubSubFleetTest {
    private static final String CONFIRM = "*3\r\n$9\r\nsubscribe\r\n$13\r\ntern-baseline\r\n:1\r\n";

    private static String push(int k) {
        String payload = "{\"k\":" + k + ",\"t\":1,\"pad\":\"xxxxxxxx\"}";
        return "*3\r\n$7\r\nmessage\r\n$13\r\ntern-baseline\r\n$" + payload.length() + "\r\n" + payload + "\r\n";
    }

    private static PubSubFleet fleet(List<Long> complete) {
        DeviceConfig c = new DeviceConfig(1, null, null, "s1-", 1, List.of("127.0.0.1"), 1, 1, 0, 64, 1_000, null,
                null, null, "127.0.0.1:6379");
        return new PubSubFleet(c, complete::add);
    }

    @Test
    void aPushSplitAtAnyByteIsCountedOnce() {
        String stream = CONFIRM + push(1) + push(2) + push(3);
        byte[] bytes = stream.getBytes(StandardCharsets.US_ASCII);
        for (int cut = 1; cut < bytes.length; cut++) {
            List<Long> complete = new ArrayList<>();
            PubSubFleet fleet = fleet(complete);
            EmbeddedChannel ch = new EmbeddedChannel(fleet.pipeline());
            // Two reads, the first ending at `cut`, then the rest one byte at a time: every split a socket can make.
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, 0, cut));
            for (int i = cut; i < bytes.length; i++) {
                ch.writeInbound(Unpooled.wrappedBuffer(bytes, i, 1));
            }
            ObjectNode stats = ChildIo.JSON.createObjectNode();
            fleet.putStats(stats);
            assertEquals(1, stats.get("everConnected").asInt(), "cut at " + cut);
            assertEquals(3, stats.get("received").asLong(), "cut at " + cut);
            assertEquals(0, stats.get("unexpectedReplies").asLong(), "cut at " + cut);
            assertEquals(List.of(1L, 2L, 3L), complete, "cut at " + cut + ": each complete on the one subscriber");
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aReplyThatIsNeitherAConfirmationNorAPushIsCounted() {
        PubSubFleet fleet = fleet(new ArrayList<>());
        EmbeddedChannel ch = new EmbeddedChannel(fleet.pipeline());
        ch.writeInbound(Unpooled.copiedBuffer("-ERR max number of clients reached\r\n", StandardCharsets.US_ASCII));
        ObjectNode stats = ChildIo.JSON.createObjectNode();
        fleet.putStats(stats);
        assertEquals(1, stats.get("unexpectedReplies").asLong());
        assertEquals(0, stats.get("everConnected").asInt());
        ch.finishAndReleaseAll();
    }
}
