package io.tern.broker.session;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Live sessions by the home region in their connect token, counted as sessions open and close
 * (never by scanning the connection map), and one shared string per home region so a session's
 * home costs it a reference, not a copy. Regions come from tokens the dispatchers signed, so there
 * are few; beyond {@code maxHomes} distinct ones, further ones are counted under {@link #OTHER}.
 * Thread-safe: every event loop opens and closes sessions.
 */
public final class SessionHomes {
    /** Where sessions of homes beyond the limit are counted. */
    public static final String OTHER = "other";

    private final int maxHomes;
    private final ConcurrentHashMap<String, Home> homes = new ConcurrentHashMap<>();
    private volatile Consumer<String> onNewHome = h -> { };

    private static final class Home {
        final String name;
        final AtomicInteger sessions = new AtomicInteger();

        Home(String name) {
            this.name = name;
        }
    }

    public SessionHomes(int maxHomes) {
        if (maxHomes < 1) {
            throw new IllegalArgumentException("maxHomes must be at least 1: " + maxHomes);
        }
        this.maxHomes = maxHomes;
    }

    /** Called once with each home region when it is first seen (e.g. to register its gauge). */
    public void onNewHome(Consumer<String> listener) {
        this.onNewHome = listener;
    }

    /**
     * Counts a session of {@code home} in.
     *
     * @return the shared instance of the home to keep in the session ({@code home} itself beyond the limit: the
     *         session still knows where it belongs)
     */
    String opened(String home) {
        Home h = homes.get(home);
        if (h == null) {
            if (homes.size() >= maxHomes) {
                homes.computeIfAbsent(OTHER, this::added).sessions.incrementAndGet();
                return home;
            }
            h = homes.computeIfAbsent(home, this::added);
        }
        h.sessions.incrementAndGet();
        return h.name;
    }

    private Home added(String name) {
        Home h = new Home(name);
        onNewHome.accept(name);
        return h;
    }

    /** Counts a session out; {@code home} is what {@link #opened} returned. */
    void closed(String home) {
        Home h = homes.get(home);
        if (h == null) {
            h = homes.get(OTHER); // counted there when it opened
        }
        if (h != null) {
            h.sessions.decrementAndGet();
        }
    }

    /** Live sessions of {@code home}. */
    public int sessions(String home) {
        Home h = homes.get(home);
        return h == null ? 0 : h.sessions.get();
    }

    /** Live sessions by home, homes with none left out (for the registry). */
    public Map<String, Integer> snapshot() {
        Map<String, Integer> out = new HashMap<>();
        for (Home h : homes.values()) {
            int n = h.sessions.get();
            if (n > 0) {
                out.put(h.name, n);
            }
        }
        return out;
    }
}
