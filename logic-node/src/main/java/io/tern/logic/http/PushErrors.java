package io.tern.logic.http;

import io.tern.pipeline.error.PushException;
import io.tern.runtime.http.ApiException;

/** The one place a {@link PushException} becomes an HTTP status and a JSON error body. */
public final class PushErrors {
    private PushErrors() {
    }

    /** The API error for a push refusal; null for anything else. */
    public static ApiException toApi(Throwable e) {
        if (!(e instanceof PushException p)) {
            return null;
        }
        String code = p.error().code();
        return switch (p.error().kind()) {
            case INVALID -> new ApiException(400, code, p.getMessage(), p.field());
            case UNAUTHORIZED -> new ApiException(401, code, p.getMessage(), p.field());
            case NOT_FOUND -> new ApiException(404, code, p.getMessage(), p.field());
            case CONFLICT -> new ApiException(409, code, p.getMessage(), p.field());
            case OVERLOADED -> ApiException.tooManyRequests(code, p.getMessage(), p.retryAfterSeconds());
            case UNAVAILABLE -> ApiException.unavailable(code, p.getMessage(), p.retryAfterSeconds());
        };
    }
}
