package io.tern.store.redis;

import io.lettuce.core.RedisURI;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Redis Cluster address: {@code redis-cluster://[[user]:password@]host1:port1,host2:port2[?replicas=N&replica-timeout-ms=T]}
 * ({@code rediss-cluster://} for TLS). Every host is a seed: the client learns the rest of the topology from
 * whichever answers. A cluster has one database, so there is no {@code /db} part.
 *
 * @param seeds           the nodes to ask for the topology, with the credentials and TLS of the URI
 * @param user            the ACL user of the URI, or null
 * @param password        the password of the URI, or null
 * @param replicas        replicas that must hold an accepted message before its accept is acknowledged
 *                        ({@code WAIT replicas timeout}); default 1, 0 turns the wait off
 * @param replicaTimeout  how long an accept waits for them (default 500 ms) before it fails
 */
public record ClusterUri(List<RedisURI> seeds, String user, String password, int replicas, Duration replicaTimeout) {
    public static final String SCHEME = "redis-cluster";
    public static final String TLS_SCHEME = "rediss-cluster";
    public static final int DEFAULT_REPLICAS = 1;
    public static final Duration DEFAULT_REPLICA_TIMEOUT = Duration.ofMillis(500);
    private static final int MAX_REPLICAS = 5;

    public ClusterUri {
        seeds = List.copyOf(seeds);
    }

    /** True for {@code redis-cluster://} and {@code rediss-cluster://} URIs. */
    public static boolean isCluster(String uri) {
        return uri != null && (uri.startsWith(SCHEME + "://") || uri.startsWith(TLS_SCHEME + "://"));
    }

    /** @throws IllegalArgumentException with what is wrong (the password never appears in it) */
    public static ClusterUri parse(String uri) {
        if (!isCluster(uri)) {
            throw new IllegalArgumentException("a cluster URI starts with " + SCHEME + ":// or " + TLS_SCHEME + "://");
        }
        boolean tls = uri.startsWith(TLS_SCHEME);
        String rest = uri.substring(uri.indexOf("://") + 3);
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String user = null;
        String password = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            user = colon < 0 ? null : decode(userInfo.substring(0, colon));
            password = decode(colon < 0 ? userInfo : userInfo.substring(colon + 1));
            if (user != null && user.isEmpty()) {
                user = null;
            }
        }
        if (rest.endsWith("/") || rest.endsWith("/0")) {
            rest = rest.substring(0, rest.lastIndexOf('/'));
        }
        if (rest.contains("/")) {
            throw new IllegalArgumentException("a Redis Cluster has only database 0: drop the /db part of the cluster URI");
        }
        List<RedisURI> seeds = new ArrayList<>();
        for (String hostPort : rest.split(",")) {
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || colon == hostPort.length() - 1) {
                throw new IllegalArgumentException("cluster URI seed '" + hostPort + "' is not host:port");
            }
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cluster URI seed '" + hostPort + "' has no numeric port");
            }
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("cluster URI seed '" + hostPort + "' has a port outside 1..65535");
            }
            RedisURI.Builder b = RedisURI.builder().withHost(hostPort.substring(0, colon)).withPort(port).withSsl(tls);
            if (password != null) {
                b = user == null ? b.withPassword(password.toCharArray()) : b.withAuthentication(user, password.toCharArray());
            }
            seeds.add(b.build());
        }
        int replicas = DEFAULT_REPLICAS;
        Duration timeout = DEFAULT_REPLICA_TIMEOUT;
        for (String param : query.isEmpty() ? new String[0] : query.split("&")) {
            String[] kv = param.split("=", 2);
            String value = kv.length == 2 ? kv[1] : "";
            switch (kv[0]) {
                case "replicas" -> replicas = intBetween("replicas", value, 0, MAX_REPLICAS);
                case "replica-timeout-ms" -> timeout = Duration.ofMillis(intBetween("replica-timeout-ms", value, 1, 60_000));
                default -> throw new IllegalArgumentException("unknown cluster URI parameter '" + kv[0]
                        + "' (known: replicas, replica-timeout-ms)");
            }
        }
        return new ClusterUri(seeds, user, password, replicas, timeout);
    }

    /** The seeds as {@code redis://host:port} (or {@code rediss://}) addresses, without credentials (Redisson's form). */
    public List<String> addresses() {
        return seeds.stream().map(s -> (s.isSsl() ? "rediss://" : "redis://") + s.getHost() + ":" + s.getPort()).toList();
    }

    private static int intBetween(String name, String value, int min, int max) {
        try {
            int v = Integer.parseInt(value);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("cluster URI parameter " + name + " must be an integer in " + min + ".." + max
                + ", was '" + value + "'");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "ClusterUri" + addresses() + "[replicas=" + replicas + ", replicaTimeout=" + replicaTimeout + "]";
    }
}
