package io.tern.runtime.main;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a role has started so far, stopped in reverse order of start: by the role's {@code close()}, or by its
 * {@code start} when a later step fails, so a half-started role leaves no thread or port behind. A part whose
 * close fails is logged and the others still close.
 */
public final class StartedResources implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StartedResources.class);

    private final String owner;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();

    /** @param owner the role and instance in log lines, e.g. {@code dispatcher d1} */
    public StartedResources(String owner) {
        this.owner = owner;
    }

    /** Records {@code resource} as started; returns it. */
    public synchronized <T extends AutoCloseable> T add(T resource) {
        started.push(resource);
        return resource;
    }

    @Override
    public synchronized void close() {
        while (!started.isEmpty()) {
            AutoCloseable r = started.pop();
            try {
                r.close();
            } catch (Exception e) {
                log.warn("[{}] closing {} failed", owner, r.getClass().getSimpleName(), e);
            }
        }
    }
}
