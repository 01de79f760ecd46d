package io.tern.protocol.frame;

/**
 * Emitted by the decoder instead of a frame when input is malformed. The stream cannot be
 * resynchronised after this, so the handler answers DISCONNECT with {@code reason} and closes.
 */
public record DecodeFailure(ReasonCode reason, String detail) {
}
