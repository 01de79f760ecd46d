package io.tern.pipeline.error;

/**
 * Every way a push can be refused, one stable machine-readable code each. Services raise them as
 * {@link PushException}; only an HTTP layer turns a {@link Kind} into a status.
 */
public enum PushError {
    INVALID_FIELD("invalid_field", Kind.INVALID),
    UNAUTHORIZED("unauthorized", Kind.UNAUTHORIZED),
    UNKNOWN_DEVICE("unknown_device", Kind.NOT_FOUND),
    UNKNOWN_TASK("unknown_task", Kind.NOT_FOUND),
    UNKNOWN_MESSAGE("unknown_message", Kind.NOT_FOUND),
    TASK_RECALLED("task_recalled", Kind.CONFLICT),
    TASK_EXPIRED("task_expired", Kind.CONFLICT),
    TASK_RESOLVING("task_resolving", Kind.CONFLICT),
    REQUEST_IN_PROGRESS("request_in_progress", Kind.CONFLICT),
    /** A bounded queue of this node is full; retry shortly. */
    OVERLOADED("overloaded", Kind.OVERLOADED),
    RATE_LIMITED("rate_limited", Kind.OVERLOADED),
    QUOTA_EXCEEDED("quota_exceeded", Kind.OVERLOADED),
    /** Beyond the permit and the burst buffer's backlog is over its bound. */
    BUFFER_FULL("buffer_full", Kind.OVERLOADED),
    IDS_UNAVAILABLE("ids_unavailable", Kind.UNAVAILABLE),
    /** Beyond the permit and the burst buffer (Kafka) did not take the push: nothing was accepted. */
    BUFFER_UNAVAILABLE("buffer_unavailable", Kind.UNAVAILABLE),
    STORE_UNAVAILABLE("store_unavailable", Kind.UNAVAILABLE),
    /** In a Redis outage, a call that needs Redis itself (a new idempotency key, say): retry once it is back. */
    REDIS_OUTAGE("redis_outage", Kind.UNAVAILABLE),
    /** In a Redis outage the disk KV that carries the push is not configured or not answering: nothing accepted. */
    DISK_KV_UNAVAILABLE("disk_kv_unavailable", Kind.UNAVAILABLE);

    /** What the caller should do about it, which an HTTP layer maps to 400 / 401 / 404 / 409 / 429 / 503. */
    public enum Kind { INVALID, UNAUTHORIZED, NOT_FOUND, CONFLICT, OVERLOADED, UNAVAILABLE }

    private final String code;
    private final Kind kind;

    PushError(String code, Kind kind) {
        this.code = code;
        this.kind = kind;
    }

    public String code() {
        return code;
    }

    public Kind kind() {
        return kind;
    }
}
