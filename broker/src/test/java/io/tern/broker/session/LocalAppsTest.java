package io.tern.broker.session;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One loop's part of the per-app index against a model: any order of adds and removes. */
class LocalAppsTest {

    @Test
    void indexMatchesTheOpenSessionsAfterRandomOpensAndCloses() {
        LocalApps.PerLoop index = new LocalApps.PerLoop(new EmbeddedChannel().eventLoop());
        Incarnation incarnation = Incarnation.of("b1", 1L);
        Random random = new Random(7);
        List<Session> open = new ArrayList<>();
        for (int step = 0; step < 5_000; step++) {
            if (open.isEmpty() || random.nextInt(3) > 0) {
                Session s = new Session(new SessionKey("app" + random.nextInt(3), "r" + step), new EmbeddedChannel(), false,
                        incarnation, step, "local");
                index.add(s);
                open.add(s);
            } else {
                Session s = open.remove(random.nextInt(open.size()));
                index.remove(s);
                index.remove(s); // a second remove is harmless
            }
        }
        for (int a = 0; a < 3; a++) {
            String app = "app" + a;
            Set<Session> expected = new HashSet<>();
            open.stream().filter(s -> s.appId().equals(app)).forEach(expected::add);
            assertEquals(expected, new HashSet<>(List.of(index.snapshot(app))), app);
            assertEquals(expected.size(), index.count(app));
        }
        open.forEach(index::remove);
        assertEquals(0, index.snapshot("app0").length);
    }
}
