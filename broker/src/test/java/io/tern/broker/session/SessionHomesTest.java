package io.tern.broker.session;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class SessionHomesTest {
    @Test
    void homesBeyondTheLimitAreCountedAsOtherButSessionsKeepTheirRealHome() {
        SessionHomes homes = new SessionHomes(2);
        List<String> added = new ArrayList<>();
        homes.onNewHome(added::add);
        String north = homes.opened(new String("north"));
        assertSame(north, homes.opened(new String("north")), "shared instance");
        homes.opened("south");
        String west = homes.opened("west");
        assertEquals("west", west, "the session still knows its home");
        assertEquals(Map.of("north", 2, "south", 1, SessionHomes.OTHER, 1), homes.snapshot());
        assertEquals(List.of("north", "south", SessionHomes.OTHER), added);

        homes.closed(west);
        homes.closed(north);
        assertEquals(Map.of("north", 1, "south", 1), homes.snapshot(), "homes with none left are not reported");
    }
}
