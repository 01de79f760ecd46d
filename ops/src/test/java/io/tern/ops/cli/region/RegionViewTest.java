package io.tern.ops.cli.region;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.ops.cli.admin.ApiError;
import io.tern.ops.cli.admin.ProgressLine;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegionViewTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.now();

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s.replace('\'', '"'));
    }

    /** As the scheduler answers {@code GET /v1/regions/north/move}. */
    private static JsonNode progress(String state, long covered, long moved, long left, boolean paused) throws Exception {
        boolean moving = state.startsWith("failing-");
        return json("{'region':'north','moving':" + moving + ",'direction':'failover','from':'north','to':'south','stage':1,"
                + "'stages':4,'stageFraction':0.05,"
                + "'coveredAtStart':" + covered + ",'moved':" + moved + ",'left':" + left + ",'currentRatePerSecond':179.6,"
                + "'ratePerSecond':200,'paused':" + paused + ",'pausedReason':" + (paused ? "'target connect p99 1.4 s > 1 s'" : "null")
                + ",'startedAt':'" + NOW.minusSeconds(75) + "','state':'" + state + "'}");
    }

    @Test
    void regionListIsATableWithThePolicyVersionAndAnyMove() throws Exception {
        String out = RegionView.regions(json("{'version':8,'regions':["
                + "{'name':'north','state':'failing-over','servedBy':'south','brokers':1,'connections':1200,"
                + "'move':{'direction':'failover','from':'north','to':'south','ratePerSecond':200,'stage':2,"
                + "'stages':4,'stageFraction':0.25,'paused':true,'pausedReason':'target busy'}},"
                + "{'name':'south','state':'active','servedBy':'south','brokers':1,'connections':300}]}"));
        List<String> lines = out.lines().toList();
        assertEquals("policy version 8", lines.get(0));
        assertTrue(lines.get(1).startsWith("REGION"), out);
        assertTrue(lines.get(2).matches("north\\s+failing-over\\s+south\\s+1\\s+1200\\s+failover to south, stage 3/4 \\(to 25%\\), 200/s, paused: target busy"), out);
        assertTrue(lines.get(3).matches("south\\s+active\\s+south\\s+1\\s+300"), out);
        // Columns line up: every row's STATE starts where the header's does.
        int state = lines.get(1).indexOf("STATE");
        assertEquals(state, lines.get(2).indexOf("failing-over"));
        assertEquals(state, lines.get(3).indexOf("active"));
    }

    @Test
    void progressShowsBarCountsStageRateAndAge() throws Exception {
        String line = RegionView.progress(progress("failing-over", 1000, 250, 750, false), NOW);
        assertTrue(line.startsWith("north -> south failover [########......................]  25%  moved 250  left 750"), line);
        assertTrue(line.contains("stage 2/4 (to 5%)"), line);
        assertTrue(line.contains("180/s of 200/s"), line);
        assertTrue(line.contains("01:15"), line);
        assertFalse(line.contains("PAUSED"), line);
    }

    @Test
    void pausedMoveSaysWhy() throws Exception {
        String line = RegionView.progress(progress("failing-over", 1000, 10, 990, true), NOW);
        assertTrue(line.endsWith("PAUSED: target connect p99 1.4 s > 1 s"), line);
    }

    @Test
    void barIsFullExactlyWhenNothingIsLeft() throws Exception {
        assertEquals(0.0, RegionView.fractionDone(progress("failing-over", 1000, 0, 1000, false)));
        assertEquals(0.999, RegionView.fractionDone(progress("failing-over", 1000, 999, 1, false)), 1e-9);
        assertEquals(1.0, RegionView.fractionDone(progress("failing-over", 1000, 1000, 0, false)));
        // Devices that connected after the start may leave too: never past full.
        assertEquals(1.0, RegionView.fractionDone(progress("failing-over", 1000, 1100, 0, false)));
        assertEquals(0.5, RegionView.fractionDone(progress("failing-over", 0, 50, 50, false)), "no covered count: moved share");
        assertEquals("[" + "#".repeat(ProgressLine.BAR_WIDTH) + "]", ProgressLine.bar(1));
        assertEquals("[" + ".".repeat(ProgressLine.BAR_WIDTH) + "]", ProgressLine.bar(0));
    }

    @Test
    void movingFlagWinsOverTheRegionState() throws Exception {
        assertFalse(RegionView.moving(json("{'moving':false,'state':'failing-over'}")), "a finished move, state not yet updated");
        assertTrue(RegionView.moving(json("{'state':'failing-back'}")), "no flag: the state says");
        assertFalse(RegionView.moving(json("{'state':'active'}")));
    }

    @Test
    void finishedMoveShowsAFullBarAndWhereTheRegionStands() throws Exception {
        JsonNode done = progress("failed-over", 1000, 990, 10, false);
        assertFalse(RegionView.moving(done));
        assertTrue(RegionView.moving(progress("failing-back", 1, 0, 1, false)));
        String line = RegionView.progress(done, NOW);
        assertTrue(line.contains("[" + "#".repeat(ProgressLine.BAR_WIDTH) + "] 100%"), line);
        assertTrue(line.endsWith("done: north failed-over"), line);
    }

    @Test
    void historyListsChangesInUtc() throws Exception {
        long at = NOW.toEpochMilli();
        String out = RegionView.history(json("{'changes':[{'version':9,'at':'" + Instant.ofEpochMilli(at) + "','by':'sre','action':'failover',"
                + "'region':'north','detail':'drill'},{'version':10,'atMillis':" + at + ",'by':'scheduler:s1','action':'stage',"
                + "'region':'north','detail':null}]}"));
        List<String> lines = out.lines().toList();
        assertEquals(3, lines.size(), out);
        String when = Instant.ofEpochMilli(at).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        assertTrue(lines.get(1).matches(java.util.regex.Pattern.quote(when) + "\\s+9\\s+sre\\s+failover\\s+north\\s+drill"), out);
        assertTrue(lines.get(2).matches(".*10\\s+scheduler:s1\\s+stage\\s+north"), out);
    }

    @Test
    void historyAcceptsABareArray() throws Exception {
        String out = RegionView.history(json("[{'version':3,'atMillis':0,'by':'sre','action':'failback','region':'south','detail':'x'}]"));
        // (epoch millis are read too)
        assertTrue(out.lines().toList().get(1).matches("1970-01-01T00:00:00Z\\s+3\\s+sre\\s+failback\\s+south\\s+x"), out);
    }

    @Test
    void apiErrorShowsMessageFieldAndStatus() {
        assertEquals("error: ratePerSecond must be in [1, 100000] (field ratePerSecond) [HTTP 400 invalid_field]",
                RegionView.error(new ApiError(400, "invalid_field", "ratePerSecond must be in [1, 100000]", "ratePerSecond", "{}")));
        assertEquals("error: no such region 'nowhere' [HTTP 404 unknown_region]",
                RegionView.error(new ApiError(404, "unknown_region", "no such region 'nowhere'", null, "{}")));
    }

    @Test
    void acceptedPointsAtWatch() throws Exception {
        RegionArgs a = RegionArgs.parse(List.of("failover", "north", "--to", "south"), Map.of("TERN_SRE_TOKEN", "t"));
        String out = RegionView.accepted(a, json("{'version':12}"));
        assertTrue(out.startsWith("failover of north to south accepted: policy version 12"), out);
        assertTrue(out.endsWith("ternctl region watch north"), out);
    }
}
