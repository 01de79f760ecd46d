package io.tern.ops.cli.admin;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProgressLineTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String printed() {
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }

    @Test
    void onATerminalOneLineIsRedrawnAndEndedOnce() {
        try (ProgressLine line = new ProgressLine(out, true)) {
            line.show("long line 1", "a");
            line.show("short", "b");
            line.end();
        }
        assertEquals("\rlong line 1\rshort      \n", printed(), "the shorter text wipes what the longer left");
    }

    @Test
    void elsewhereALineIsPrintedOnlyWhenTheProgressChanged() {
        try (ProgressLine line = new ProgressLine(out, false)) {
            line.show("10% 00:01", "10%");
            line.show("10% 00:02", "10%");
            line.show("20% 00:03", "20%");
        }
        assertEquals("10% 00:01\n20% 00:03\n", printed());
    }

    @Test
    void theBarIsClampedToItsWidth() {
        assertEquals("[" + "#".repeat(ProgressLine.BAR_WIDTH) + "]", ProgressLine.bar(1.5));
        assertEquals("[" + ".".repeat(ProgressLine.BAR_WIDTH) + "]", ProgressLine.bar(-1));
        assertEquals("[" + "#".repeat(15) + ".".repeat(15) + "]", ProgressLine.bar(0.5));
    }
}
