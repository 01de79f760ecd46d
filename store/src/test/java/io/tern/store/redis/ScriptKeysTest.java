package io.tern.store.redis;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No script builds a key: keys come from {@code Keys} through KEYS, so Redis Cluster can route every call. */
class ScriptKeysTest {
    private static final Path SCRIPTS = Path.of("src/main/resources/io/tern/store/lua");
    /** A string literal holding a key prefix, e.g. 'tern:msg:' or "tern:". */
    private static final Pattern KEY_LITERAL = Pattern.compile("['\"]tern:");

    @Test
    void noScriptHoldsAKeyPrefix() throws IOException {
        List<Path> scripts;
        try (Stream<Path> files = Files.list(SCRIPTS)) {
            scripts = files.filter(p -> p.toString().endsWith(".lua")).sorted().toList();
        }
        assertTrue(scripts.size() > 20, "found the scripts: " + scripts.size());
        List<String> building = scripts.stream().filter(p -> KEY_LITERAL.matcher(read(p)).find())
                .map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of(), building, "scripts building keys inside");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
