package io.tern.store.route;

import java.nio.charset.StandardCharsets;

/**
 * A device's route as brokers publish it to the compacted {@link io.tern.store.topic.Topics#ROUTES} topic, keyed by
 * {@link #key()}: the copy of the routes that survives a Redis outage (the disk-KV backup keeps it, logic nodes read
 * it from there while Redis is away). {@code route} null is a disconnect: it removes {@code ended} only if that is
 * still the device's route, so a late disconnect of an old connection cannot remove a newer one.
 *
 * @param route  the new route, or null on disconnect
 * @param ended  on disconnect, the route that ended; else null
 */
public record RouteChange(String appId, String regId, Route route, Route ended, long atMillis) {
    public RouteChange {
        if ((route == null) == (ended == null)) {
            throw new IllegalArgumentException("a route change is a connect (route) or a disconnect (ended)");
        }
    }

    public static RouteChange connected(String appId, String regId, Route route, long atMillis) {
        return new RouteChange(appId, regId, route, null, atMillis);
    }

    public static RouteChange disconnected(String appId, String regId, Route ended, long atMillis) {
        return new RouteChange(appId, regId, null, ended, atMillis);
    }

    public boolean isConnect() {
        return route != null;
    }

    /** The record key: one device's changes stay in order in one partition, and compaction keeps its last. */
    public String key() {
        return appId + ':' + regId;
    }

    /** {@code appId \n regId \n +route | -ended \n atMillis}. */
    public byte[] encode() {
        String r = isConnect() ? "+" + route.encode() : "-" + ended.encode();
        return (appId + '\n' + regId + '\n' + r + '\n' + atMillis).getBytes(StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException on anything {@link #encode()} did not write */
    public static RouteChange decode(byte[] value) {
        String[] f = new String(value, StandardCharsets.UTF_8).split("\n", -1);
        if (f.length != 4 || f[0].isEmpty() || f[1].isEmpty() || f[2].length() < 2) {
            throw new IllegalArgumentException("not a route change");
        }
        Route r = Route.decode(f[2].substring(1));
        if (r == null) {
            throw new IllegalArgumentException("route change with an unreadable route: " + f[2]);
        }
        long at;
        try {
            at = Long.parseLong(f[3]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("route change with an unreadable time: " + f[3]);
        }
        return switch (f[2].charAt(0)) {
            case '+' -> connected(f[0], f[1], r, at);
            case '-' -> disconnected(f[0], f[1], r, at);
            default -> throw new IllegalArgumentException("route change neither + nor -: " + f[2]);
        };
    }
}
