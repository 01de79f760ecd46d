package io.tern.runtime.http;

/**
 * An API error with a real HTTP status, a stable machine-readable code and, for bad input,
 * the field at fault. Rendered as {@code {"code","message","field"?}}.
 */
public class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final String field;
    private final long retryAfterSeconds;

    public ApiException(int status, String code, String message, String field) {
        this(status, code, message, field, 0);
    }

    private ApiException(int status, String code, String message, String field, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiException badRequest(String field, String message) {
        return new ApiException(400, "invalid_field", message, field);
    }

    public static ApiException unauthorized(String message) {
        return new ApiException(401, "unauthorized", message, null);
    }

    public static ApiException notFound(String code, String message) {
        return new ApiException(404, code, message, null);
    }

    /** 429 whose {@code Retry-After} header says when the caller may try again (at least 1 s). */
    public static ApiException tooManyRequests(String code, String message, long retryAfterSeconds) {
        return new ApiException(429, code, message, null, Math.max(1, retryAfterSeconds));
    }

    /** 503 whose {@code Retry-After} header says when the caller may try again (at least 1 s). */
    public static ApiException unavailable(String code, String message, long retryAfterSeconds) {
        return new ApiException(503, code, message, null, Math.max(1, retryAfterSeconds));
    }

    /**
     * The one answer while the data store (Redis) is unreachable: 503 {@code store_unavailable},
     * {@code Retry-After: 1}; nothing was accepted, the caller retries the same request.
     */
    public static ApiException storeUnavailable() {
        return unavailable("store_unavailable", "the data store is unreachable; nothing was accepted, retry shortly", 1);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String field() {
        return field;
    }

    /** Seconds for the {@code Retry-After} header of a 429 or 503; 0 when not set (the server then says 1). */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
