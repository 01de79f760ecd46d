package io.tern.dispatcher.allocation;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.store.region.RegionPolicy;
import io.tern.store.registry.BrokerInfo;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.stream.IntStream;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class BrokerAllocatorTest {

    private static BrokerInfo broker(String id, String region, int connections) {
        return new BrokerInfo(id, region, id + ":7000", id + ":7001", id + ":7100", connections, 0L);
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** A policy as the scheduler stores it (JSON): regions as {@code name:state:servedBy}. */
    public static RegionPolicy policy(String... regions) {
        StringBuilder json = new StringBuilder("{\"version\":7,\"updatedAtMillis\":0,\"regions\":[");
        for (int i = 0; i < regions.length; i++) {
            String[] r = regions[i].split(":");
            json.append(i == 0 ? "" : ",").append("{\"name\":\"").append(r[0]).append("\",\"state\":\"").append(r[1])
                    .append("\",\"servedBy\":\"").append(r[2]).append("\"}");
        }
        try {
            return JSON.readValue(json.append("]}").toString(), RegionPolicy.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final List<BrokerInfo> THREE_REGIONS = List.of(
            broker("n1", "north", 5), broker("n2", "north", 1),
            broker("s1", "south", 9), broker("s2", "south", 2), broker("s3", "south", 4),
            broker("e1", "east", 3), broker("e2", "east", 0));

    @Test
    void aFailedOverHomeIsServedByTheServingRegionsBrokersFirstAndItsOwnAreNotOffered() {
        RegionPolicy p = policy("north:failed-over:south");

        assertEquals(List.of("s2", "s3", "e2"), ids(BrokerAllocator.allocate(THREE_REGIONS, p, "north", "reg-1", 2, 1)));
    }

    @Test
    void whileARegionFailsOverItsBrokersAreOfferedToNobody() {
        RegionPolicy p = policy("north:failing-over:south");

        assertEquals(List.of("s2", "s3", "s1", "e2"), ids(BrokerAllocator.allocate(THREE_REGIONS, p, "north", "reg-1", 3, 1)));
        // Devices of other regions do not get the evacuated region as a fallback either.
        assertEquals(List.of("e2", "e1", "s2"), ids(BrokerAllocator.allocate(THREE_REGIONS, p, "east", "reg-1", 3, 1)));
    }

    @Test
    void onFailbackTheHomeRegionServesItselfAgain() {
        RegionPolicy p = policy("north:failing-back:north");

        assertEquals(List.of("n2", "n1", "e2", "s2"), ids(BrokerAllocator.allocate(THREE_REGIONS, p, "north", "reg-1", 3, 1)));
    }

    @Test
    void evacuatedRegionsAreOfferedOnlyWhenNothingElseIsLeft() {
        RegionPolicy p = policy("north:failed-over:south", "east:failing-over:south");
        List<BrokerInfo> onlyEvacuated = List.of(broker("n1", "north", 5), broker("e1", "east", 1));

        assertEquals(List.of("e1", "n1"), ids(BrokerAllocator.allocate(onlyEvacuated, p, "north", "reg-1", 3, 1)));
        assertEquals(List.of("s1"), ids(BrokerAllocator.allocate(
                List.of(broker("n1", "north", 5), broker("s1", "south", 50)), p, "north", "reg-1", 3, 1)));
    }

    private static List<String> ids(List<BrokerInfo> brokers) {
        return brokers.stream().map(BrokerInfo::id).toList();
    }

    @Test
    void homeBrokersComeLeastLoadedFirst() {
        List<BrokerInfo> live = List.of(broker("a", "north", 30), broker("b", "north", 10), broker("c", "north", 20));

        assertEquals(List.of("b", "c", "a"), ids(BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "reg-1", 3, 1)));
    }

    @Test
    void homeBrokersAreCappedAtMaxHomeKeepingTheLeastLoaded() {
        List<BrokerInfo> live = List.of(broker("a", "north", 40), broker("b", "north", 10),
                broker("c", "north", 30), broker("d", "north", 20));

        assertEquals(List.of("b", "d"), ids(BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "reg-1", 2, 1)));
    }

    @Test
    void otherRegionsAppendTheirLeastLoadedBrokerOneEach() {
        List<BrokerInfo> live = List.of(
                broker("e1", "east", 50), broker("n1", "north", 7), broker("e2", "east", 5),
                broker("s1", "south", 3), broker("s2", "south", 9), broker("n2", "north", 1));

        List<String> got = ids(BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "reg-1", 3, 1));

        // Home first (least loaded first), then one per other region, those least loaded first too.
        assertEquals(List.of("n2", "n1", "s1", "e2"), got);
    }

    @Test
    void homeBrokersComeFirstEvenWhenOtherRegionsAreLessLoaded() {
        List<BrokerInfo> live = List.of(broker("e1", "east", 0), broker("n1", "north", 1000));

        assertEquals(List.of("n1", "e1"), ids(BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "reg-1", 3, 1)));
    }

    @Test
    void unknownHomeRegionGetsOneBrokerFromEachRegion() {
        List<BrokerInfo> live = List.of(broker("e1", "east", 2), broker("e2", "east", 1), broker("n1", "north", 3));

        assertEquals(List.of("e2", "n1"), ids(BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "west", "reg-1", 3, 1)));
    }

    @Test
    void noLiveBrokersGivesNoBrokers() {
        assertEquals(List.of(), BrokerAllocator.allocate(List.of(), RegionPolicy.EMPTY, "north", "reg-1", 3, 1));
    }

    @Test
    void orderDoesNotDependOnTheOrderOfTheLiveList() {
        List<BrokerInfo> live = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            live.add(broker("b" + i, i % 3 == 0 ? "north" : "east", i % 2));
        }
        List<String> expected = ids(BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "reg-42", 3, 1));
        Random random = new Random(7);
        for (int round = 0; round < 20; round++) {
            Collections.shuffle(live, random);
            assertEquals(expected, ids(BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "reg-42", 3, 1)));
        }
    }

    @Test
    void equallyLoadedBrokersShareNewDevices() {
        List<BrokerInfo> live = List.of(broker("a", "north", 0), broker("b", "north", 0),
                broker("c", "north", 0), broker("d", "north", 0));
        Map<String, Integer> firstChoice = new HashMap<>();
        int devices = 4000;
        for (int i = 0; i < devices; i++) {
            String first = BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "device-" + i, 3, 1).get(0).id();
            firstChoice.merge(first, 1, Integer::sum);
        }
        assertEquals(4, firstChoice.size(), "every broker is someone's first choice: " + firstChoice);
        firstChoice.forEach((id, n) ->
                assertTrue(n > devices / 4 * 0.8 && n < devices / 4 * 1.2, id + " got " + n + " of " + devices));
    }

    @Test
    void loadStillWinsOverTheTieBreak() {
        List<BrokerInfo> live = List.of(broker("a", "north", 1), broker("b", "north", 0));
        for (int i = 0; i < 100; i++) {
            assertEquals("b", BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "device-" + i, 3, 1).get(0).id());
        }
    }

    @Test
    void loadsInTheSameBucketShareDevicesSoAStaleCountCannotHerdAStorm() {
        // b looks a little emptier (by far less than a bucket): devices still spread over both.
        List<BrokerInfo> live = List.of(broker("a", "north", 260), broker("b", "north", 240));
        long toA = IntStream.range(0, 1000)
                .filter(i -> BrokerAllocator.allocate(live, RegionPolicy.EMPTY, "north", "device-" + i, 3, 500).get(0).id().equals("a"))
                .count();
        assertTrue(toA > 350 && toA < 600, "about half go to a: " + toA);
        // A bucket apart, the emptier broker wins every time.
        List<BrokerInfo> apart = List.of(broker("a", "north", 900), broker("b", "north", 40));
        assertTrue(IntStream.range(0, 100).allMatch(i ->
                BrokerAllocator.allocate(apart, RegionPolicy.EMPTY, "north", "device-" + i, 3, 500).get(0).id().equals("b")));
    }

    @Test
    void maxHomeBelowOneIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> BrokerAllocator.allocate(List.of(), RegionPolicy.EMPTY, "north", "r", 0, 1));
    }
}
