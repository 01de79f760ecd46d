package io.tern.broker.session;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open device sockets (TCP and WebSocket, authenticated or not): each holds a file
 * descriptor, and this process may hold only so many.
 */
public final class ConnectionLimiter {
    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    // One listener for every channel: no per-connection allocation.
    private final ChannelFutureListener release = f -> open.decrementAndGet();

    public ConnectionLimiter(int max) {
        this.max = max;
    }

    /** Counts {@code channel} until it closes. @return false when it is over the limit */
    public boolean admit(Channel channel) {
        int n = open.incrementAndGet();
        channel.closeFuture().addListener(release);
        return n <= max;
    }

    public int open() {
        return open.get();
    }
}
