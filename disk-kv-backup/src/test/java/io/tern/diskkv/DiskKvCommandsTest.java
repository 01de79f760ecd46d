package io.tern.diskkv;

import io.tern.store.diskkv.DiskKv;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The disk KV is Kvrocks in production: the code may rely only on commands Kvrocks has, and the README says which. */
class DiskKvCommandsTest {

    private static Set<String> kvrocksCommands() throws IOException {
        try (InputStream in = DiskKvCommandsTest.class.getResourceAsStream("/kvrocks-commands.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .map(l -> l.toUpperCase(Locale.ROOT)).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void everyCommandTheDiskKvClientSendsIsAKvrocksCommand() throws IOException {
        Set<String> kvrocks = kvrocksCommands();
        assertTrue(kvrocks.size() > 200, "the Kvrocks list looks truncated: " + kvrocks.size());
        Set<String> missing = new TreeSet<>(DiskKv.COMMANDS);
        missing.removeAll(kvrocks);
        assertEquals(Set.of(), missing, "commands DiskKv sends that Kvrocks does not support");
    }

    @Test
    void theReadmeListsExactlyTheCommandsTheCodeSends() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("<!-- disk-kv-commands -->(.*?)<!-- /disk-kv-commands -->", Pattern.DOTALL)
                .matcher(readme);
        assertTrue(m.find(), "README.md has no disk-kv-commands block");
        Set<String> listed = Arrays.stream(m.group(1).split("[`\\s]+")).filter(s -> !s.isBlank())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(DiskKv.COMMANDS), listed);
    }
}
