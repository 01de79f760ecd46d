package io.tern.broker.session;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Failed handshakes (bad or expired token, a frame before CONNECT, no CONNECT in time) per source
 * address, as a token bucket: each failure takes a token, tokens come back at {@code ratePerSecond}
 * up to {@code burst}. A source with no token left is refused at once with SERVER_BUSY, before any
 * token is verified, so a flood from one address costs a socket accept and a few bytes. At most
 * {@code capacity} sources are remembered (~150 bytes each); the least recently seen goes first, so
 * a flood from many addresses cannot grow the map. Devices behind one NAT address share a bucket.
 * Thread-safe: every event loop uses it; each call is a map lookup under a short lock, no I/O.
 */
public final class FailedHandshakeLimiter {
    private final double tokensPerNano;
    private final double burst;
    private final LongSupplier nanos;
    private final Map<InetAddress, Bucket> sources;

    public FailedHandshakeLimiter(double ratePerSecond, int burst, int capacity, LongSupplier nanos) {
        if (ratePerSecond <= 0 || burst < 1 || capacity < 1) {
            throw new IllegalArgumentException("rate, burst and capacity must be positive");
        }
        this.tokensPerNano = ratePerSecond / 1e9;
        this.burst = burst;
        this.nanos = nanos;
        this.sources = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, Bucket> eldest) {
                return size() > capacity;
            }
        };
    }

    /** @return true when {@code source} has used up its failures: refuse it without looking at its CONNECT */
    public boolean limited(InetAddress source) {
        if (source == null) {
            return false;
        }
        long now = nanos.getAsLong();
        synchronized (sources) {
            Bucket b = sources.get(source);
            return b != null && b.refill(now, tokensPerNano, burst) < 1;
        }
    }

    /** Counts one failed handshake of {@code source}. */
    public void failed(InetAddress source) {
        if (source == null) {
            return;
        }
        long now = nanos.getAsLong();
        synchronized (sources) {
            Bucket b = sources.get(source);
            if (b == null) {
                b = new Bucket(burst, now);
                sources.put(source, b);
            }
            b.tokens = Math.max(0, b.refill(now, tokensPerNano, burst) - 1);
        }
    }

    /** Sources remembered now (at most the capacity). */
    public int sources() {
        synchronized (sources) {
            return sources.size();
        }
    }

    private static final class Bucket {
        double tokens;
        long lastNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.lastNanos = now;
        }

        double refill(long now, double perNano, double burst) {
            tokens = Math.min(burst, tokens + (now - lastNanos) * perNano);
            lastNanos = now;
            return tokens;
        }
    }
}
