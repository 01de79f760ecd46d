package io.tern.loadtest.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChartsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir
    Path dir;

    private static ObjectNode recorded() throws IOException {
        try (InputStream in = ChartsTest.class.getResourceAsStream("/chart/broadcast-result.json")) {
            return (ObjectNode) JSON.readTree(in);
        }
    }

    private static void assertPng(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        byte[] head = java.util.Arrays.copyOf(bytes, PNG_SIGNATURE.length);
        assertArrayEquals(PNG_SIGNATURE, head, file + " does not start with the PNG signature");
        BufferedImage img = ImageIO.read(file.toFile());
        assertNotNull(img, file + " is not a readable image");
        assertEquals(Charts.WIDTH, img.getWidth(), file + " width");
        assertEquals(Charts.HEIGHT, img.getHeight(), file + " height");
    }

    @Test
    void aRecordedBroadcastRunGetsFourValidPngsOfTheChartSize() throws IOException {
        Charts.Result r = Charts.write(recorded(), dir);

        assertEquals(List.of(dir.resolve("throughput.png"), dir.resolve("latency.png"),
                dir.resolve("connections-rss.png"), dir.resolve("cpu.png")), r.written());
        for (Path p : r.written()) {
            assertPng(p);
        }
        assertEquals(List.of(), r.notes());
    }

    @Test
    void anEmptySeriesIsLeftOutWithANoteAndAChartWithNothingToDrawIsNotWritten() throws IOException {
        ObjectNode run = recorded();
        ObjectNode timeline = (ObjectNode) run.get("timeline");
        timeline.putObject("throughput").putArray("received").addNull().addNull();
        ((ObjectNode) run.get("fanOutMs")).putArray("cdf");
        run.remove("latencyFromCallMs");

        Charts.Result r = Charts.write(run, dir);

        assertTrue(r.notes().contains("throughput.png: deliveries received by the devices left out: no samples"),
                r.notes().toString());
        assertTrue(r.notes().contains("throughput.png not drawn: the run recorded no throughput over time"),
                r.notes().toString());
        assertTrue(r.notes().contains("latency.png: /all call → last device, per broadcast (fanOutMs) left out: no samples"),
                r.notes().toString());
        assertTrue(r.notes().contains("latency.png not drawn: the run recorded no latency samples"), r.notes().toString());
        assertFalse(Files.exists(dir.resolve("throughput.png")));
        assertFalse(Files.exists(dir.resolve("latency.png")));
        assertEquals(List.of(dir.resolve("connections-rss.png"), dir.resolve("cpu.png")), r.written());
    }

    @Test
    void withoutATimelineCpuIsDrawnFromTheRunsAveragesAndTheTimeChartsSayWhyNot() throws IOException {
        ObjectNode run = recorded();
        run.remove("timeline");

        Charts.Result r = Charts.write(run, dir);

        assertEquals(List.of(dir.resolve("latency.png"), dir.resolve("cpu.png")), r.written());
        assertPng(dir.resolve("cpu.png"));
        assertTrue(r.notes().contains("connections-rss.png not drawn: the run recorded no connections or RSS over time"),
                r.notes().toString());
    }

    @Test
    void burstsOwnSeriesIsDrawnAsThroughput() throws IOException {
        JsonNode burst = JSON.readTree("""
                {"scenario":"burst","devices":100,"brokers":2,"capacityPerSecond":200,
                 "series":[{"t":0.0,"downstream":0,"lag":0,"accepted":0},{"t":1.0,"downstream":150,"lag":1500,"accepted":1900},
                           {"t":2.0,"downstream":178,"lag":3100,"accepted":3800}]}""");

        Charts.Result r = Charts.write(burst, dir);

        assertTrue(r.written().contains(dir.resolve("throughput.png")), r.toString());
        assertPng(dir.resolve("throughput.png"));
    }
}
