package io.tern.client.net;

import io.tern.protocol.frame.ReasonCode;

/** What the client does after a broker session ends. */
public enum NextStep {
    /** Another session of this device took over: stop for good, do not fight it. */
    STOP,
    /** Ask the dispatcher again (after a jittered backoff delay): new token or new region. */
    REDISPATCH,
    /** Connect to the addresses the broker's REDIRECT named. */
    REDIRECT,
    /** An established session was lost: back off, then reconnect to the same broker list. */
    RECONNECT,
    /** This address did not take the connection: try the next one at once (re-dispatch when none is left). */
    NEXT_ADDRESS;

    /**
     * The step after a DISCONNECT from the broker.
     *
     * @param connected whether a CONNACK had arrived: a refusal during the handshake moves on to
     *                  the next address instead of retrying the same broker
     */
    public static NextStep afterDisconnect(ReasonCode reason, boolean connected) {
        switch (reason) {
            case SESSION_REPLACED:
                return STOP;
            case TOKEN_INVALID:
            case TOKEN_EXPIRED:
            case SERVER_SHUTTING_DOWN:
            case REGION_MOVED:
                return REDISPATCH;
            default:
                return connected ? RECONNECT : NEXT_ADDRESS;
        }
    }
}
