package io.tern.client;

/** How the client reaches a broker. Both carry the same binary frames. */
public enum Transport {
    /** Binary frames over plain TCP to the dispatcher's {@code brokers} ({@code host:port}). */
    TCP,
    /** The same frames as binary WebSocket messages to the dispatcher's {@code wsBrokers} ({@code ws://host:port/v1/ws}). */
    WEBSOCKET
}
