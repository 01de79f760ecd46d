package io.tern.runtime.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * First in every HTTP pipeline (in front of the codec, so it sees raw bytes): enforces
 * {@link HttpLimits} for one connection. A connection is READING (a request is arriving: one
 * deadline from accept or from the request's first byte, never restarted by later bytes),
 * PROCESSING (the request is complete, a response is pending: no timer) or IDLE (keep-alive
 * between requests: the keep-alive timer, and a place in the server's idle list, whose oldest
 * member is closed when the list is over its cap). {@link #requestEnd()} marks the end of a
 * request; put it after the aggregator.
 *
 * <p>Behind TLS (an {@link SslHandler} in front of it) a 408 or 503 goes out encrypted, so it
 * can only leave once the TLS handshake is done: a connection refused before that keeps reading
 * (its handshake must go on; whatever it sends after is dropped) and is closed at the request
 * deadline if the handshake has not finished; a deadline that finds the handshake unfinished
 * closes the connection without an answer.
 */
final class ConnectionGuard extends ChannelDuplexHandler {
    private static final byte[] TIMEOUT = response(408, "Request Timeout", "request_timeout",
            "request not received within the deadline");
    private static final byte[] BUSY = response(503, "Service Unavailable", "server_busy",
            "too many connections; retry later");

    private enum State { READING, PROCESSING, IDLE }

    private final HttpLimits limits;
    private final Connections connections;
    private State state = State.READING;
    private boolean bytesWhileProcessing;
    /** A 408 / 503 is on its way out: nothing more is read into a request. */
    private boolean refused;
    private ScheduledFuture<?> timer;
    private ChannelHandlerContext ctx;

    ConnectionGuard(HttpLimits limits, Connections connections) {
        this.limits = limits;
        this.connections = connections;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!connections.admit(ctx.channel())) {
            refuse(BUSY);
            return;
        }
        armDeadline();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ByteBuf b && b.isReadable()) {
            if (state == State.IDLE) {
                connections.leaveIdle(ctx.channel());
                state = State.READING;
                armDeadline();
            } else if (state == State.PROCESSING) {
                bytesWhileProcessing = true; // a pipelined request: its deadline starts when this response is out
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ctx.write(msg, promise);
        if (state == State.PROCESSING) {
            if (bytesWhileProcessing) {
                bytesWhileProcessing = false;
                state = State.READING;
                armDeadline();
            } else {
                state = State.IDLE;
                arm(limits.keepAliveTimeout().toMillis(), ctx::close);
                connections.enterIdle(ctx.channel());
            }
        }
    }

    /** The aggregator delivered a whole request. */
    private void requestDecoded() {
        state = State.PROCESSING;
        cancel();
    }

    private void armDeadline() {
        arm(limits.requestDeadline().toMillis(), () -> {
            if (state == State.READING) {
                if (tlsHandshakePending()) {
                    ctx.close(); // no channel to answer on yet: a slow TLS handshake is cut off like a slow request
                } else {
                    refuse(TIMEOUT);
                }
            }
        });
    }

    /** Sends {@code response} and closes; reads stop, or go on unused while a TLS handshake must finish first. */
    private void refuse(byte[] response) {
        refused = true;
        if (tlsHandshakePending()) {
            arm(limits.requestDeadline().toMillis(), ctx::close);
        } else {
            ctx.channel().config().setAutoRead(false);
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(response)).addListener(ChannelFutureListener.CLOSE);
    }

    private boolean tlsHandshakePending() {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        return tls != null && !tls.handshakeFuture().isDone();
    }

    private void arm(long millis, Runnable task) {
        cancel();
        timer = ctx.executor().schedule(task, millis, TimeUnit.MILLISECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        connections.leaveIdle(ctx.channel());
        ctx.fireChannelInactive();
    }

    /** Goes after the aggregator: tells the guard a request is complete. */
    ChannelInboundHandlerAdapter requestEnd() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof FullHttpRequest) {
                    requestDecoded();
                }
                ctx.fireChannelRead(msg);
            }
        };
    }

    private static byte[] response(int status, String phrase, String code, String message) {
        byte[] body = ("{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\nConnection: close\r\n" + (status == 503 ? "Retry-After: 1\r\n" : "") + "\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[h.length + body.length];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(body, 0, out, h.length, body.length);
        return out;
    }

    /** One per server: open connections and the idle ones, oldest idle first. Thread-safe. */
    static final class Connections {
        private final int maxConnections;
        private final int maxIdle;
        private final AtomicInteger open = new AtomicInteger();
        private final LinkedHashSet<Channel> idle = new LinkedHashSet<>();
        private final ChannelFutureListener release = f -> open.decrementAndGet();

        Connections(HttpLimits limits) {
            this.maxConnections = limits.maxConnections();
            this.maxIdle = limits.maxIdleConnections();
        }

        boolean admit(Channel ch) {
            int n = open.incrementAndGet();
            ch.closeFuture().addListener(release);
            return n <= maxConnections;
        }

        void enterIdle(Channel ch) {
            Channel evicted = null;
            synchronized (idle) {
                idle.add(ch);
                if (idle.size() > maxIdle) {
                    Iterator<Channel> oldest = idle.iterator();
                    evicted = oldest.next();
                    oldest.remove();
                }
            }
            if (evicted != null) {
                evicted.close(); // thread-safe: runs on the evicted channel's own event loop
            }
        }

        void leaveIdle(Channel ch) {
            synchronized (idle) {
                idle.remove(ch);
            }
        }

        int open() {
            return open.get();
        }

        int idle() {
            synchronized (idle) {
                return idle.size();
            }
        }
    }
}
