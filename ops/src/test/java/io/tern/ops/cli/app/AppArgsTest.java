package io.tern.ops.cli.app;

import io.tern.ops.cli.admin.UsageException;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AppArgsTest {
    private static final Map<String, String> ENV = Map.of("TERN_SRE_TOKEN", "t-0123456789abcdef");

    @Test
    void createTakesAnAppIdAKeyAndLimits() throws Exception {
        AppArgs a = AppArgs.parse(List.of("create", "news", "--key", "news-key-1", "--rate", "200", "--daily-quota=5000000"), ENV);
        assertEquals(AppArgs.Action.CREATE, a.action());
        assertEquals("news", a.appId());
        assertEquals("news-key-1", a.appKey());
        assertEquals(200, a.rate());
        assertEquals(5_000_000L, a.dailyQuota());
        assertEquals(URI.create(AppArgs.DEFAULT_LOGIC), a.logic());
        assertEquals("t-0123456789abcdef", a.token());
        assertFalse(a.json());
    }

    @Test
    void limitsWithoutAFlagShowsThemAndWithOneChangesThem() throws Exception {
        assertFalse(AppArgs.parse(List.of("limits", "news"), ENV).changesLimits());
        AppArgs change = AppArgs.parse(List.of("limits", "news", "--daily-quota", "10"), ENV);
        assertTrue(change.changesLimits());
        assertNull(change.rate(), "a limit not given is left as it is");
    }

    @Test
    void theLogicNodeComesFromTheFlagThenTheEnvironmentAndJsonFromOutput() throws Exception {
        assertEquals(URI.create("http://l:1"), AppArgs.parse(List.of("list"),
                Map.of("TERN_SRE_TOKEN", "t", "TERN_LOGIC_URL", "http://l:1/")).logic());
        AppArgs a = AppArgs.parse(List.of("list", "--logic", "https://m:2", "--output", "json", "--token", "x"),
                Map.of("TERN_SRE_TOKEN", "t", "TERN_LOGIC_URL", "http://l:1"));
        assertEquals(URI.create("https://m:2"), a.logic());
        assertEquals("x", a.token());
        assertTrue(a.json());
    }

    @Test
    void everyUsageErrorIsFoundBeforeSending() {
        for (List<String> bad : List.of(
                List.of("create"),
                List.of("create", "has space"),
                List.of("create", "a", "b"),
                List.of("create", "news", "--key", "short"),
                List.of("create", "news", "--rate", "0"),
                List.of("create", "news", "--rate", "many"),
                List.of("limits", "news", "--daily-quota", "-1"),
                List.of("rotate-secret", "news", "--rate", "5"),
                List.of("list", "extra"),
                List.of("list", "--logic", "ftp://x"),
                List.of("list", "--output", "yaml"),
                List.of("delete", "news"))) {
            UsageException e = assertThrows(UsageException.class, () -> AppArgs.parse(bad, ENV), bad.toString());
            assertFalse(e.getMessage().isBlank());
        }
        assertThrows(UsageException.class, () -> AppArgs.parse(List.of("list"), Map.of()), "no token");
    }
}
