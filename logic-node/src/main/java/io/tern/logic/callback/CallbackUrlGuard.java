package io.tern.logic.callback;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Keeps receipt callbacks off the platform's own network: a callback URL is refused when its host is,
 * or resolves to, a loopback, private, shared (CGNAT), link-local, cloud metadata, unspecified,
 * multicast or reserved address, unless {@code logic.callback.allow} lists it.
 *
 * <p>Only {@code http} and {@code https}, no userinfo, and IPv4 only as four decimal octets
 * ({@code http://2130706433/}, {@code http://0x7f000001/}, {@code http://0177.0.0.1/} are refused, as
 * other HTTP stacks read them as 127.0.0.1). Names are resolved off the caller's thread on a bounded
 * pool ({@link #check}): DNS blocks. The API checks at accept time and the dispatcher again before every
 * POST ({@link #check} too): a name that resolved to a public address at accept time may point inside
 * later (DNS rebinding). The POST's own lookup follows the check within milliseconds and is answered from
 * the JVM's address cache (30 s by default), so it connects to an address that was checked; the one gap left
 * is a cache entry expiring between the two lookups. Redirects are never followed (see
 * {@link CallbackDispatcher}).
 */
public final class CallbackUrlGuard implements AutoCloseable {
    /** Names that reach a cloud metadata service without resolving to its address everywhere. */
    private static final Set<String> METADATA_NAMES = Set.of("metadata.google.internal", "metadata.goog", "metadata");
    /** A last label of digits or {@code 0x..}: the host is an IPv4 number in some notation (WHATWG URL). */
    private static final Pattern NUMERIC_LABEL = Pattern.compile("(?i)0x[0-9a-f]*|[0-9]+");
    private static final Pattern DOTTED_QUAD =
            Pattern.compile("(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");

    private final List<AllowRule> allow;
    private final ThreadPoolExecutor resolver;

    public CallbackUrlGuard(CallbackConfig.Targets config, String owner) {
        this.allow = config.allow().stream().map(AllowRule::parse).toList();
        AtomicInteger n = new AtomicInteger();
        this.resolver = new ThreadPoolExecutor(config.resolverThreads(), config.resolverThreads(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(config.resolverQueue()), r -> {
            Thread t = new Thread(r, owner + "-callback-resolver-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        resolver.allowCoreThreadTimeOut(true);
    }

    /** A callback URL that is refused; the message says why and is safe to show the app. */
    public static final class RefusedException extends RuntimeException {
        public RefusedException(String message) {
            super(message, null, false, false);
        }
    }

    /** The checks that need no DNS: scheme, userinfo, host and its notation. Throws {@link RefusedException}. */
    public static URI parse(String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (Exception e) {
            throw new RefusedException("callback.url is not a valid URL");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new RefusedException("callback.url must be an http or https URL");
        }
        if (u.getRawUserInfo() != null || (u.getRawAuthority() != null && u.getRawAuthority().contains("@"))) {
            throw new RefusedException("callback.url must not carry user info (user:password@)");
        }
        // java.net.URI leaves the host null for some numeric forms (2130706433): judge the authority's host part.
        String host = u.getHost() != null ? host(u)
                : u.getRawAuthority() == null ? "" : u.getRawAuthority().replaceFirst(":[0-9]*$", "");
        if (!host.startsWith("[") && numeric(host) && !DOTTED_QUAD.matcher(host).matches()) {
            throw new RefusedException("callback.url: write an IPv4 host as four decimal octets");
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            throw new RefusedException("callback.url must name a host");
        }
        return u;
    }

    private static boolean numeric(String host) {
        String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        return !h.isEmpty() && NUMERIC_LABEL.matcher(h.substring(h.lastIndexOf('.') + 1)).matches();
    }

    /**
     * Parses, resolves (on the resolver pool when the host is a name) and checks {@code url}. The future
     * fails with {@link RefusedException}, or with {@link java.util.concurrent.RejectedExecutionException}
     * when the resolver queue is full.
     */
    public CompletableFuture<URI> check(String url) {
        URI u;
        try {
            u = parse(url);
        } catch (RefusedException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (literal(host(u)) || allowedByName(u)) {
            try {
                return CompletableFuture.completedFuture(checkResolving(u));
            } catch (RefusedException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        try {
            return CompletableFuture.supplyAsync(() -> checkResolving(u), resolver);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** {@code url} without its query and fragment, for logs (an app may put a token in its query). */
    public static String shown(String url) {
        try {
            URI u = new URI(url);
            return new URI(u.getScheme(), null, u.getHost(), u.getPort(), u.getPath(), null, null).toString();
        } catch (Exception e) {
            return "(unparsable URL)";
        }
    }

    /** The whole check on the calling thread (DNS blocks: never on an event loop). */
    URI checkResolving(URI u) {
        String host = host(u);
        int port = port(u);
        if (allowedByName(u)) {
            return u;
        }
        if (METADATA_NAMES.contains(host)) {
            throw new RefusedException("callback.url must not point at a metadata service");
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (UnknownHostException e) {
            throw new RefusedException("callback.url host " + host + " does not resolve");
        }
        // Every address must pass: the HTTP client may connect to any of them.
        for (InetAddress a : addresses) {
            if (allowedByAddress(a, port)) {
                continue;
            }
            String kind = internalKind(a);
            if (kind != null) {
                throw new RefusedException("callback.url host " + host + " is or resolves to a " + kind
                        + " address; only public addresses receive callbacks");
            }
        }
        return u;
    }

    private boolean allowedByName(URI u) {
        String host = host(u);
        int port = port(u);
        return allow.stream().anyMatch(r -> r instanceof AllowRule.Name n && n.host().equals(host) && n.port() == port);
    }

    private boolean allowedByAddress(InetAddress a, int port) {
        return allow.stream().anyMatch(r -> r instanceof AllowRule.Address ad && ad.port() == port && ad.address().equals(a)
                || r instanceof AllowRule.Cidr c && c.contains(a));
    }

    /** Lower-cased host without a trailing dot; IPv6 literals keep their brackets. */
    private static String host(URI u) {
        String h = u.getHost().toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    private static int port(URI u) {
        return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private static boolean literal(String host) {
        return host.startsWith("[") || DOTTED_QUAD.matcher(host).matches();
    }

    /** What kind of internal address {@code a} is, or null for a public one. */
    static String internalKind(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return internalKind4(b, 0);
        }
        if (allZero(b, 0, 15)) {
            return b[15] == 0 ? "unspecified" : b[15] == 1 ? "loopback" : "reserved (IPv4-compatible)";
        }
        if (allZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
            return internalKind4(b, 12); // IPv4-mapped
        }
        if (allZero(b, 0, 12)) {
            return "reserved (IPv4-compatible)";
        }
        if (b[0] == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b && allZero(b, 4, 12)) {
            return internalKind4(b, 12); // NAT64 64:ff9b::/96
        }
        if (b[0] == 0x20 && b[1] == 0x02) {
            return internalKind4(b, 2); // 6to4 2002::/16
        }
        if (prefix(b, 0xfd, 0x00, 0x0e, 0xc2) && allZero(b, 4, 14) && b[14] == 0x02 && b[15] == 0x54) {
            return "metadata"; // fd00:ec2::254, the EC2 metadata service over IPv6
        }
        int b0 = b[0] & 0xff;
        int b1 = b[1] & 0xff;
        if ((b0 & 0xfe) == 0xfc) {
            return "private (unique local)";
        }
        if (b0 == 0xfe && (b1 & 0xc0) == 0x80) {
            return "link-local";
        }
        if (b0 == 0xfe && (b1 & 0xc0) == 0xc0) {
            return "private (site-local)";
        }
        if (b0 == 0xff) {
            return "multicast";
        }
        return null;
    }

    private static String internalKind4(byte[] b, int at) {
        int a0 = b[at] & 0xff;
        int a1 = b[at + 1] & 0xff;
        int a2 = b[at + 2] & 0xff;
        int a3 = b[at + 3] & 0xff;
        if (a0 == 0) {
            return "unspecified";
        }
        if (a0 == 127) {
            return "loopback";
        }
        if (a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168)) {
            return "private";
        }
        if (a0 == 100 && (a1 & 0xc0) == 64) {
            return "shared (CGNAT)";
        }
        if (a0 == 169 && a1 == 254) {
            return a2 == 169 && a3 == 254 ? "metadata" : "link-local";
        }
        if ((a0 == 192 && a1 == 0 && a2 == 0) || (a0 == 198 && (a1 & 0xfe) == 18)) {
            return "reserved";
        }
        if (a0 >= 224 && a0 <= 239) {
            return "multicast";
        }
        if (a0 >= 240) {
            return "reserved";
        }
        return null;
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean prefix(byte[] b, int... bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if ((b[i] & 0xff) != bytes[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        resolver.shutdownNow();
    }

    /** One {@code logic.callback.allow} entry: {@code host:port} (a name or an IP) or a CIDR block. */
    sealed interface AllowRule {
        record Name(String host, int port) implements AllowRule {
        }

        record Address(InetAddress address, int port) implements AllowRule {
        }

        record Cidr(byte[] network, int bits) implements AllowRule {
            boolean contains(InetAddress a) {
                byte[] b = a.getAddress();
                if (b.length != network.length) {
                    return false;
                }
                for (int i = 0; i < bits; i++) {
                    int mask = 0x80 >> (i % 8);
                    if ((b[i / 8] & mask) != (network[i / 8] & mask)) {
                        return false;
                    }
                }
                return true;
            }
        }

        static AllowRule parse(String entry) {
            String e = entry.trim().toLowerCase(Locale.ROOT);
            try {
                int slash = e.indexOf('/');
                if (slash > 0) {
                    String ip = e.substring(0, slash);
                    if (!literal(ip) && !ip.contains(":")) {
                        throw new IllegalArgumentException();
                    }
                    byte[] network = InetAddress.getByName(ip).getAddress();
                    int bits = Integer.parseInt(e.substring(slash + 1));
                    if (bits < 0 || bits > network.length * 8) {
                        throw new IllegalArgumentException();
                    }
                    return new Cidr(network, bits);
                }
                int colon = e.lastIndexOf(':');
                String host = e.substring(0, colon);
                int port = Integer.parseInt(e.substring(colon + 1));
                if (colon <= 0 || port < 1 || port > 65535) {
                    throw new IllegalArgumentException();
                }
                if (literal(host)) {
                    return new Address(InetAddress.getByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host), port);
                }
                if (host.contains(":") || host.contains("[")) {
                    throw new IllegalArgumentException();
                }
                return new Name(host.endsWith(".") ? host.substring(0, host.length() - 1) : host, port);
            } catch (UnknownHostException | RuntimeException ex) {
                throw new io.tern.runtime.config.ConfigException("logic.callback.allow entry '" + entry
                        + "' must be host:port, [ipv6]:port or a CIDR block like 10.1.0.0/16");
            }
        }
    }

    /** Validates {@code logic.callback.allow} entries (used by the config record). */
    static List<String> validated(List<String> entries) {
        List<String> out = new ArrayList<>();
        for (String e : entries) {
            AllowRule.parse(e);
            out.add(e.trim());
        }
        return List.copyOf(out);
    }
}
