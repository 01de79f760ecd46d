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
    NEXT_ADDRESS,
    /**
     * The broker is over its admission rate and said when to come back ({@link SessionEnd#retryAfterMillis()}):
     * wait that long (jittered), then ask the dispatcher again. Not the next address: during a region move
     * that would be another region's broker, undoing the move.
     */
    RETRY_LATER;

    /**
     * The step after a DISCONNECT from the broker.
     *
     * @param connected        whether a CONNACK had arrived: a refusal during the handshake moves on to
     *                         the next address instead of retrying the same broker
     * @param retryAfterMillis the DISCONNECT's retry hint ({@link io.tern.protocol.frame.RetryAfter}), -1 without one
     */
    public static NextStep afterDisconnect(ReasonCode reason, boolean connected, long retryAfterMillis) {
        if (reason == ReasonCode.SERVER_BUSY && retryAfterMillis >= 0) {
            return RETRY_LATER;
        }
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
