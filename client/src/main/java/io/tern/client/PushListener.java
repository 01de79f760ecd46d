package io.tern.client;

import io.tern.protocol.frame.ReasonCode;

/**
 * Receives a client's messages and connection changes.
 *
 * <p><b>Threading:</b> every callback runs on the client's Netty event loop, which may be shared
 * with thousands of other clients. Callbacks must return quickly and must never block (no I/O,
 * no locks held for long, no {@link TernClient#awaitConnected}); hand slow work to an executor
 * of your own. A callback that throws is logged and otherwise ignored; the message is still
 * acknowledged.
 */
public interface PushListener {

    /** A new message: not a duplicate of a recent one and not expired. Acknowledged after this returns. */
    void onMessage(PushMessage message);

    /**
     * The platform registered this device ({@code POST /v1/register}) and issued it {@code regId}: hand it to
     * your app server, which pushes to it. Called once per registration, after the credentials were saved to
     * the {@link CredentialStore}; not called for credentials that were given or loaded.
     */
    default void onRegistered(String regId) {
    }

    /**
     * The broker accepted the connection (CONNACK).
     *
     * @param broker the broker address as the dispatcher or a REDIRECT listed it
     */
    default void onConnected(String broker) {
    }

    /**
     * A connected session ended (not called for attempts that never reached CONNACK).
     *
     * @param reason the broker's DISCONNECT or REDIRECT reason, {@code IDLE_TIMEOUT} when the
     *               broker went silent, {@code OK} on {@link TernClient#close()}, or
     *               <b>null</b> when the connection was lost without a reason (reset, closed socket)
     * @param detail a human-readable cause, never null
     */
    default void onDisconnected(ReasonCode reason, String detail) {
    }
}
