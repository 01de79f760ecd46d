package io.tern.client.net;

import io.tern.protocol.frame.ReasonCode;

import java.util.List;
import java.util.Objects;

/**
 * How a broker session ended and what to do next.
 *
 * @param next       the step the client takes
 * @param connected  whether the session had reached CONNACK
 * @param reason     the broker's (or the client's) reason code; null when the connection was
 *                   lost without one (peer reset, closed socket)
 * @param detail     human-readable cause, never null
 * @param redirectTo addresses of a REDIRECT, empty otherwise
 * @param retryAfterMillis how long the broker asked the device to wait ({@link NextStep#RETRY_LATER}), -1 when it
 *                   did not
 */
public record SessionEnd(NextStep next, boolean connected, ReasonCode reason, String detail, List<String> redirectTo,
                         long retryAfterMillis) {
    public SessionEnd {
        Objects.requireNonNull(next, "next");
        detail = detail == null ? "" : detail;
        redirectTo = redirectTo == null ? List.of() : List.copyOf(redirectTo);
    }
}
