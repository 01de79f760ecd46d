package io.tern.ratecontrol.admin;

import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpServer;
import io.tern.runtime.http.Route;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;

/**
 * The SRE admin API of the rate controller (every call carries {@code Authorization: Bearer <sre-token>}).
 * Skeleton: the routes come with the controller's decision loop.
 */
public final class AdminApi {
    private final byte[] token;

    public AdminApi(byte[] sreToken) {
        this.token = sreToken.clone();
    }

    /** Adds the admin routes to the controller's server. */
    public HttpServer.Builder addRoutes(HttpServer.Builder http) {
        return http;
    }

    /** The handler behind the SRE token check (compared in constant time), else 401; for every admin route. */
    public Route.Handler guarded(Route.Handler handler) {
        return req -> {
            if (!authorized(req.header("Authorization"))) {
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

    private boolean authorized(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token);
    }
}
