package io.tern.dispatcher.http;

import java.util.List;

/**
 * The answer to {@code GET /v1/dispatch}: broker addresses in the order a device should try
 * them ({@code host:port} for TCP; {@code ws://host:port/v1/ws} for brokers that accept
 * WebSocket), the connect token, when it expires, and the device's home region.
 */
public record DispatchResponse(List<String> brokers, List<String> wsBrokers, String token, long expiresAt,
                               String region) {
}
