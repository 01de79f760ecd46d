package io.tern.client.net;

import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Turns a broker host into a socket address without blocking an event loop: IP literals are
 * parsed in place; names are looked up (the JDK's blocking resolver) on a small shared pool of
 * daemon threads {@code tern-client-resolver-*} with a bounded queue. Netty's default resolver
 * would run that lookup on the event loop.
 */
public final class HostResolver {
    private static final int QUEUE = 1024;

    private HostResolver() {
    }

    private static final class Pool {
        static final ExecutorService EXECUTOR;

        static {
            ThreadPoolExecutor e = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(QUEUE), new DefaultThreadFactory("tern-client-resolver", true));
            e.allowCoreThreadTimeOut(true);
            EXECUTOR = e;
        }
    }

    /** @return the resolved address; a literal completes at once, a name on the resolver pool */
    public static CompletableFuture<InetSocketAddress> resolve(String host, int port) {
        InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
        if (literal != null) {
            return CompletableFuture.completedFuture(new InetSocketAddress(literal, port));
        }
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return new InetSocketAddress(InetAddress.getByName(host), port);
                } catch (UnknownHostException e) {
                    throw new CompletionException(e);
                }
            }, Pool.EXECUTOR);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new UnknownHostException("resolver queue full for " + host));
        }
    }
}
