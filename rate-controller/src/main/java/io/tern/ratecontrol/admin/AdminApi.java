package io.tern.ratecontrol.admin;

import io.tern.runtime.http.HttpServer;

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
}
