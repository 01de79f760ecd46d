package io.tern.pipeline.error;

/** A refused push: the {@link PushError}, a message for people, the request field at fault (or null). */
public final class PushException extends RuntimeException {
    private final PushError error;
    private final String field;
    private final long retryAfterSeconds;

    public PushException(PushError error, String message, String field) {
        this(error, message, field, 0);
    }

    /** For {@link PushError.Kind#OVERLOADED} and {@link PushError.Kind#UNAVAILABLE}: when to come back (≥ 1 s). */
    public PushException(PushError error, String message, String field, long retryAfterSeconds) {
        super(message, null, false, false);
        this.error = error;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static PushException invalid(String field, String message) {
        return new PushException(PushError.INVALID_FIELD, message, field);
    }

    public static PushException unauthorized(String message) {
        return new PushException(PushError.UNAUTHORIZED, message, null);
    }

    public PushError error() {
        return error;
    }

    public String field() {
        return field;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
