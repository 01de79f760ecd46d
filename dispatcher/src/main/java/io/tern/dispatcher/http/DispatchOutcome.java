package io.tern.dispatcher.http;

/** Outcomes of a dispatch or register request: the metric tag and, for failures, the stable API error code. */
public enum DispatchOutcome {
    OK("ok", 200),
    INVALID_FIELD("invalid_field", 400),
    /** Unknown app, wrong client key, or a missing, wrong or stale device signature. */
    UNAUTHORIZED("unauthorized", 401),
    NO_BROKERS("no_brokers", 503);

    private final String code;
    private final int status;

    DispatchOutcome(String code, int status) {
        this.code = code;
        this.status = status;
    }

    public String code() {
        return code;
    }

    public int status() {
        return status;
    }
}
