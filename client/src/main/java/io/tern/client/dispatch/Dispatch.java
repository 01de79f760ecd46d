package io.tern.client.dispatch;

import java.util.List;
import java.util.Objects;

/**
 * The dispatcher's answer: broker addresses in the order to try them (home region first) and
 * the signed connect token.
 *
 * @param brokers        TCP addresses, {@code host:port}
 * @param wsBrokers      WebSocket addresses, {@code ws://host:port/v1/ws}
 * @param token          opaque connect token for CONNECT
 * @param expiresAtMillis token expiry, epoch milliseconds on the dispatcher's clock
 */
public record Dispatch(List<String> brokers, List<String> wsBrokers, String token, long expiresAtMillis) {
    public Dispatch {
        brokers = brokers == null ? List.of() : List.copyOf(brokers);
        wsBrokers = wsBrokers == null ? List.of() : List.copyOf(wsBrokers);
        Objects.requireNonNull(token, "token");
    }
}
