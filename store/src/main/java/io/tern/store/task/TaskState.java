package io.tern.store.task;

import java.util.Locale;

/** Lifecycle of a task. RECALLED is final: no copy is delivered after it. */
public enum TaskState {
    /** Stored; waiting for a push call (list / tag / all) or for its sendAt. */
    CREATED,
    SCHEDULED,
    SENDING,
    RECALLED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TaskState fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
