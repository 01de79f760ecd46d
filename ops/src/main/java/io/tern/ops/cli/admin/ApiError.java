package io.tern.ops.cli.admin;

/**
 * The admin API refused a call: its HTTP status and its error body {@code {"code","message","field"?}}.
 *
 * @param raw the body as received, printed as is with {@code --output json}
 */
public final class ApiError extends Exception {
    private final int status;
    private final String code;
    private final String field;
    private final String raw;

    public ApiError(int status, String code, String message, String field, String raw) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
        this.raw = raw;
    }

    public int status() {
        return status;
    }

    /** The API's error code, e.g. {@code unknown_region}; null when the body had none. */
    public String code() {
        return code;
    }

    /** The request field at fault (400), or null. */
    public String field() {
        return field;
    }

    public String raw() {
        return raw;
    }
}
