package io.tern.runtime.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;

/**
 * The SRE token check of every role's admin API: {@code Authorization: Bearer <token>}, compared in constant
 * time; a route behind it answers 401 without the token.
 */
public final class BearerGuard {
    private final byte[] token;

    public BearerGuard(String token) {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("an admin API needs a token");
        }
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /** @param header the request's {@code Authorization} header */
    public boolean authorizes(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(header.substring(7).trim().getBytes(StandardCharsets.UTF_8), token);
    }

    /** {@code handler} behind the check (else 401); a handler that throws answers as a failed future. */
    public Route.Handler guard(Route.Handler handler) {
        return req -> {
            if (!authorizes(req.header("Authorization"))) {
                return CompletableFuture.failedFuture(
                        ApiException.unauthorized("Authorization: Bearer <SRE token> missing or wrong"));
            }
            try {
                return handler.handle(req);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        };
    }
}
