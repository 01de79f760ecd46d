package io.tern.client.dispatch;

/**
 * The dispatcher answered with an error ({@code {code, message, field?}} and a non-200 status)
 * or with a body this SDK cannot use. Transport failures (refused, timeout) are not wrapped:
 * they arrive as the {@link java.io.IOException} the HTTP client raised.
 */
public final class DispatchException extends RuntimeException {
    private final int status;
    private final String code;
    private final String field;

    public DispatchException(int status, String code, String message, String field) {
        super("dispatch failed: HTTP " + status + (code == null ? "" : " " + code)
                + (message == null ? "" : ": " + message) + (field == null ? "" : " (field " + field + ")"));
        this.status = status;
        this.code = code;
        this.field = field;
    }

    /** HTTP status; 200 when the body of a 200 answer was unusable. */
    public int status() {
        return status;
    }

    /** The error code from the body, or null when the body had none. */
    public String code() {
        return code;
    }

    /** The offending request field, or null. */
    public String field() {
        return field;
    }
}
