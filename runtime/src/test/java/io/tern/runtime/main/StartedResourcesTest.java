package io.tern.runtime.main;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StartedResourcesTest {
    @Test
    void closesInReverseOrderOfStartAndAFailingCloseStopsNoOther() {
        List<String> closed = new ArrayList<>();
        StartedResources started = new StartedResources("test t1");
        started.add(() -> closed.add("metrics"));
        started.add(() -> {
            closed.add("redis");
            throw new IllegalStateException("refused");
        });
        started.add(() -> closed.add("http"));
        started.close();
        assertEquals(List.of("http", "redis", "metrics"), closed);
        started.close();
        assertEquals(3, closed.size(), "each part closes once");
    }
}
