package io.tern.broker.session;

import io.netty.channel.EventLoop;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The broker's authenticated connections grouped by app, for broadcasts. Kept per event loop
 * and touched only on that loop: a connection is added and removed on its own loop, and a
 * broadcast walks each loop's part on that loop, so nothing here is locked. Per connection it
 * costs one array slot (4 bytes with compressed references) and the session's {@code slot}
 * int, which fits in padding the session already has.
 */
public final class LocalApps {
    private static final int INITIAL_CAPACITY = 8;

    private final ConcurrentHashMap<EventLoop, PerLoop> loops = new ConcurrentHashMap<>();

    /** Indexes {@code session}; call on its channel's event loop. */
    void add(Session session) {
        EventLoop loop = session.channel().eventLoop();
        loops.computeIfAbsent(loop, PerLoop::new).add(session);
    }

    /** Forgets {@code session} if it is indexed; call on its channel's event loop. */
    void remove(Session session) {
        PerLoop l = loops.get(session.channel().eventLoop());
        if (l != null) {
            l.remove(session);
        }
    }

    /** {@code loop}'s part of the index, or null when it never held a connection. */
    PerLoop of(EventLoop loop) {
        return loops.get(loop);
    }

    /** Every event loop that ever held a connection, with its part of the index. */
    public Collection<PerLoop> loops() {
        return loops.values();
    }

    /** One event loop's connections by app. Every method must run on {@link #loop()}. */
    public static final class PerLoop {
        private final EventLoop loop;
        private final Map<String, Slots> byApp = new HashMap<>();
        private long adds;

        PerLoop(EventLoop loop) {
            this.loop = loop;
        }

        public EventLoop loop() {
            return loop;
        }

        /** A copy of the app's sessions on this loop (empty when none): connects and closes may go on meanwhile. */
        public Session[] snapshot(String appId) {
            Slots s = byApp.get(appId);
            return s == null ? new Session[0] : Arrays.copyOf(s.items, s.size);
        }

        /**
         * Connections added to this loop so far: a snapshot taken when this was {@code n} still holds every
         * connection of its app while it is {@code n} (closed ones it holds are no longer usable).
         */
        public long adds() {
            return adds;
        }

        /** Connections of the app on this loop. */
        public int count(String appId) {
            Slots s = byApp.get(appId);
            return s == null ? 0 : s.size;
        }

        /** Every session on this loop. */
        void forEach(Consumer<Session> action) {
            for (Slots s : byApp.values()) {
                for (int i = 0; i < s.size; i++) {
                    action.accept(s.items[i]);
                }
            }
        }

        void add(Session session) {
            byApp.computeIfAbsent(session.appId(), a -> new Slots()).add(session);
            adds++;
        }

        void remove(Session session) {
            Slots s = byApp.get(session.appId());
            if (s != null && s.remove(session) && s.size == 0) {
                byApp.remove(session.appId());
            }
        }
    }

    /** An unordered array with swap-remove: O(1) both ways, no per-entry node. */
    private static final class Slots {
        Session[] items = new Session[INITIAL_CAPACITY];
        int size;

        void add(Session session) {
            if (session.slot >= 0) {
                return; // already indexed
            }
            if (size == items.length) {
                items = Arrays.copyOf(items, size + (size >> 1));
            }
            items[size] = session;
            session.slot = size++;
        }

        boolean remove(Session session) {
            int i = session.slot;
            if (i < 0 || i >= size || items[i] != session) {
                return false;
            }
            Session last = items[--size];
            items[i] = last;
            last.slot = i;
            items[size] = null;
            session.slot = -1;
            if (items.length > 4 * INITIAL_CAPACITY && size < items.length / 4) {
                items = Arrays.copyOf(items, items.length / 2);
            }
            return true;
        }
    }
}
