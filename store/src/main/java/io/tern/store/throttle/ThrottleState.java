package io.tern.store.throttle;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * OPEN: the downstream is below the release mark; the permit is the platform's ceiling.
 * THROTTLED: the downstream reached the throttle mark; the permit leaves room for what the permit does not gate.
 */
public enum ThrottleState {
    OPEN, THROTTLED;

    @JsonValue
    public String wire() {
        return name().toLowerCase();
    }

    @JsonCreator
    public static ThrottleState fromWire(String s) {
        return valueOf(s.toUpperCase());
    }
}
