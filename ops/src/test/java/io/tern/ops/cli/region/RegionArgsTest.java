package io.tern.ops.cli.region;

import io.tern.ops.cli.admin.UsageException;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegionArgsTest {
    private static final Map<String, String> TOKEN_ONLY = Map.of("TERN_SRE_TOKEN", "env-token");

    private static RegionArgs parse(Map<String, String> env, String... args) throws UsageException {
        return RegionArgs.parse(List.of(args), env);
    }

    private static String usageError(Map<String, String> env, String... args) {
        return assertThrows(UsageException.class, () -> parse(env, args)).getMessage();
    }

    @Test
    void failoverTakesTargetRateReasonAndVersion() throws Exception {
        RegionArgs a = parse(TOKEN_ONLY, "failover", "north", "--to", "south", "--rate", "200", "--reason", "drill",
                "--if-match", "7");
        assertEquals(RegionArgs.Action.FAILOVER, a.action());
        assertEquals("north", a.region());
        assertEquals("south", a.to());
        assertEquals(200, a.ratePerSecond());
        assertEquals("drill", a.reason());
        assertEquals(7L, a.ifMatch());
        assertFalse(a.json());
    }

    @Test
    void flagsMayUseEqualsAndComeBeforeTheRegion() throws Exception {
        RegionArgs a = parse(TOKEN_ONLY, "failover", "--to=south", "--reason=region north is on fire", "north");
        assertEquals("north", a.region());
        assertEquals("south", a.to());
        assertEquals("region north is on fire", a.reason());
        assertNull(a.ratePerSecond(), "no --rate: the scheduler's default applies");
        assertNull(a.ifMatch());
    }

    @Test
    void schedulerAndTokenComeFromFlagsBeforeTheEnvironment() throws Exception {
        Map<String, String> env = Map.of("TERN_SRE_TOKEN", "env-token", "TERN_SCHEDULER_URL", "http://sched.internal:9000/");
        RegionArgs fromEnv = parse(env, "list");
        assertEquals(URI.create("http://sched.internal:9000"), fromEnv.scheduler(), "trailing slash dropped");
        assertEquals("env-token", fromEnv.token());

        RegionArgs fromFlags = parse(env, "list", "--scheduler", "https://other:8443", "--token", "flag-token");
        assertEquals(URI.create("https://other:8443"), fromFlags.scheduler());
        assertEquals("flag-token", fromFlags.token());
    }

    @Test
    void schedulerDefaultsToTheLocalOne() throws Exception {
        assertEquals(URI.create("http://127.0.0.1:8082"), parse(TOKEN_ONLY, "list").scheduler());
    }

    @Test
    void withoutATokenNothingIsSent() {
        assertTrue(usageError(Map.of(), "list").contains("TERN_SRE_TOKEN"));
    }

    @Test
    void outputJsonIsForScripts() throws Exception {
        assertTrue(parse(TOKEN_ONLY, "history", "--output", "json").json());
        assertTrue(usageError(TOKEN_ONLY, "list", "--output", "yaml").contains("--output"));
    }

    @Test
    void watchTimeoutIsADurationAndDefaultsToHalfAnHour() throws Exception {
        assertEquals(Duration.ofMinutes(30), parse(TOKEN_ONLY, "watch", "north").timeout());
        assertEquals(Duration.ofSeconds(90), parse(TOKEN_ONLY, "watch", "north", "--timeout", "90s").timeout());
        assertTrue(usageError(TOKEN_ONLY, "watch", "north", "--timeout", "soon").contains("--timeout"));
        assertTrue(usageError(TOKEN_ONLY, "watch", "north", "--timeout", "").contains("--timeout"));
        assertTrue(usageError(TOKEN_ONLY, "watch", "north", "--timeout", "0s").contains("positive"));
    }

    @Test
    void historyLimitIsBounded() throws Exception {
        assertEquals(RegionArgs.DEFAULT_LIMIT, parse(TOKEN_ONLY, "history").limit());
        assertEquals(5, parse(TOKEN_ONLY, "history", "--limit", "5").limit());
        assertTrue(usageError(TOKEN_ONLY, "history", "--limit", "0").contains("--limit"));
        assertTrue(usageError(TOKEN_ONLY, "history", "--limit", "5000").contains("--limit"));
    }

    @Test
    void rateMustBeAWholeNumberButItsBoundsAreTheSchedulers() throws Exception {
        assertTrue(usageError(TOKEN_ONLY, "failback", "north", "--rate", "fast").contains("--rate"));
        // The scheduler owns the bounds and answers 400 naming the field; the CLI passes the number on.
        assertEquals(-5, parse(TOKEN_ONLY, "failback", "north", "--rate", "-5").ratePerSecond());
    }

    @Test
    void wrongCommandLinesAreUsageErrors() {
        assertTrue(usageError(TOKEN_ONLY).contains("missing"));
        assertTrue(usageError(TOKEN_ONLY, "explode").contains("unknown region command"));
        assertTrue(usageError(TOKEN_ONLY, "failover", "north").contains("--to"));
        assertTrue(usageError(TOKEN_ONLY, "failover", "--to", "south").contains("exactly one region"));
        assertTrue(usageError(TOKEN_ONLY, "failback", "north", "south").contains("exactly one region"));
        assertTrue(usageError(TOKEN_ONLY, "list", "north").contains("no arguments"));
        assertTrue(usageError(TOKEN_ONLY, "list", "--to", "south").contains("takes no --to"));
        assertTrue(usageError(TOKEN_ONLY, "watch", "north", "--rate", "5").contains("takes no --rate"));
        assertTrue(usageError(TOKEN_ONLY, "failover", "north", "--to").contains("needs a value"));
        assertTrue(usageError(TOKEN_ONLY, "failover", "north", "--to", "a", "--to", "b").contains("twice"));
        assertTrue(usageError(TOKEN_ONLY, "watch", "../admin").contains("region must match"));
        assertTrue(usageError(TOKEN_ONLY, "failover", "north", "--to", "so uth").contains("--to must match"));
        assertTrue(usageError(TOKEN_ONLY, "list", "--scheduler", "ftp://x").contains("http(s)"));
        assertTrue(usageError(TOKEN_ONLY, "failover", "north", "--to", "south", "--if-match", "v7").contains("--if-match"));
    }
}
