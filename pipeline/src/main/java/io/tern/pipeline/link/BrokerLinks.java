package io.tern.pipeline.link;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.DecodeFailure;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.link.LinkProof;
import io.tern.runtime.net.Transports;
import io.tern.runtime.tls.TlsContexts;
import io.tern.store.registry.BrokerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Persistent, pipelined connections from this logic node to each broker's internal port. Many
 * push commands ride one connection at once, matched to their results by correlation id. Each
 * link bounds its in-flight commands and fails them after the reply timeout.
 * <p>
 * A link is usable once it is authenticated ({@link LinkHandshake}): the broker's LINK_CHALLENGE
 * is answered with this node's proof of the cluster secret, and the broker's LINK_ACCEPT must
 * carry its own proof, so neither side talks to an impostor. Commands sent meanwhile wait for it,
 * bounded by the in-flight limit and their reply deadlines; a link not authenticated within the
 * auth timeout is closed and its commands fail.
 */
public final class BrokerLinks implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerLinks.class);

    /** The link to the broker is at its in-flight limit: the caller should shed load (429). */
    public static final class SaturatedException extends RuntimeException {
        SaturatedException(String brokerId) {
            super("broker " + brokerId + " link saturated", null, false, false);
        }
    }

    private final EventLoopGroup group;
    private final String nodeId;
    private final LinkProof proof;
    private final Duration authTimeout;
    private final Duration connectTimeout;
    private final Duration replyTimeout;
    private final Duration broadcastReplyTimeout;
    private final int maxInFlight;
    private final Map<String, Link> links = new ConcurrentHashMap<>();
    private final AtomicLong correlation = new AtomicLong();
    private final SslContext tls;

    /**
     * @param nodeId                this logic node's id, named in the handshake
     * @param proof                 the cluster secret every link proves
     * @param authTimeout           a link must be authenticated within this after it connected
     * @param broadcastReplyTimeout a broadcast's reply comes after the broker wrote every local
     *                              connection of the app, so it waits longer than a push's
     * @param tls                   TLS toward the brokers' internal ports (peer verified, host name checked),
     *                              null for plain links
     */
    public BrokerLinks(String nodeId, LinkProof proof, Duration authTimeout, Duration connectTimeout,
                       Duration replyTimeout, Duration broadcastReplyTimeout, int maxInFlight, SslContext tls) {
        this.group = Transports.group(1, "logic-broker-links");
        this.nodeId = nodeId;
        this.proof = proof;
        this.authTimeout = authTimeout;
        this.connectTimeout = connectTimeout;
        this.replyTimeout = replyTimeout;
        this.broadcastReplyTimeout = broadcastReplyTimeout;
        this.maxInFlight = maxInFlight;
        this.tls = tls;
        if (tls != null) {
            log.info("[logic links] TLS to brokers with SslProvider {}", TlsContexts.describeProvider());
        }
        group.scheduleWithFixedDelay(this::expireOverdue, 200, 200, TimeUnit.MILLISECONDS);
    }

    /** Whether a command to this broker would be accepted now (for shedding load before accepting). */
    public boolean hasCapacity(String brokerId) {
        Link l = links.get(brokerId);
        return l == null || l.pending.size() < maxInFlight;
    }

    public int inFlight() {
        return links.values().stream().mapToInt(l -> l.pending.size()).sum();
    }

    /**
     * Sends one push command; completes with the broker's outcome, or exceptionally on connect
     * failure, link loss, timeout or {@link SaturatedException}.
     */
    public CompletableFuture<PushOutcome> send(BrokerInfo broker, String appId, String regId, Frame.Push push) {
        return request(broker, replyTimeout, id -> new Frame.PushCommand(id, appId, regId, push))
                .thenApply(reply -> ((Frame.PushResult) reply).outcome());
    }

    /** One task copy to many devices of one broker, in one command (the broker encodes it once). */
    public CompletableFuture<Frame.PushBatchResult> sendBatch(BrokerInfo broker, String appId, List<String> regIds,
                                                              Frame.Push push) {
        return request(broker, replyTimeout, id -> new Frame.PushBatch(id, appId, push, regIds))
                .thenApply(reply -> (Frame.PushBatchResult) reply);
    }

    /**
     * A broadcast to every connection of the app on one broker.
     *
     * @param countAcks the broker may report the acks as counts (the task needs no per-device receipt)
     */
    public CompletableFuture<Frame.BroadcastResult> broadcast(BrokerInfo broker, String appId, Frame.Push push,
                                                              boolean countAcks) {
        return request(broker, broadcastReplyTimeout, id -> new Frame.Broadcast(id, appId, push, countAcks))
                .thenApply(reply -> (Frame.BroadcastResult) reply);
    }

    private CompletableFuture<Frame> request(BrokerInfo broker, Duration timeout, LongFunction<Frame> command) {
        Link link = links.compute(broker.id(), (id, existing) ->
                existing != null && existing.address.equals(broker.internalAddress()) && !existing.dead
                        ? existing : new Link(id, broker.internalAddress()));
        return link.send(correlation.incrementAndGet(), System.nanoTime() + timeout.toNanos(), command);
    }

    private void expireOverdue() {
        long now = System.nanoTime();
        for (Link l : links.values()) {
            l.pending.forEach((id, p) -> {
                if (now - p.deadlineNanos > 0 && l.pending.remove(id, p)) {
                    p.future.completeExceptionally(new TimeoutException("no reply from broker " + l.brokerId));
                }
            });
        }
    }

    @Override
    public void close() {
        links.values().forEach(Link::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private record Pending(CompletableFuture<Frame> future, long deadlineNanos) {
    }

    private final class Link {
        final String brokerId;
        final String address;
        final Map<Long, Pending> pending = new ConcurrentHashMap<>();
        final ChannelFuture connect;
        /** Completes with the channel once the handshake proved both sides; commands wait for it. */
        final CompletableFuture<Channel> ready = new CompletableFuture<>();
        volatile boolean dead;

        Link(String brokerId, String address) {
            this.brokerId = brokerId;
            this.address = address;
            int colon = address.lastIndexOf(':');
            String host = address.substring(0, colon);
            int port = Integer.parseInt(address.substring(colon + 1));
            this.connect = new Bootstrap()
                    .group(group)
                    .channel(Transports.socketChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (tls != null) {
                                ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), host, port));
                            }
                            ch.pipeline()
                                    .addLast(new FlushConsolidationHandler(256, true))
                                    .addLast(new FrameDecoder(FrameHeader.INTERNAL_MAX_BODY))
                                    .addLast(FrameEncoder.INSTANCE)
                                    .addLast(new LinkHandshake())
                                    .addLast(new Replies());
                        }
                    })
                    .connect(host, port);
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    log.warn("[logic link {}] cannot connect to {}: {}", brokerId, address, f.cause().toString());
                    fail(f.cause());
                } else {
                    Channel ch = connect.channel();
                    ch.closeFuture().addListener(c -> fail(new IllegalStateException("link to broker " + brokerId + " closed")));
                    ch.eventLoop().schedule(() -> {
                        if (!ready.isDone()) {
                            log.warn("[logic link {}] not authenticated within {} ms: closing", brokerId, authTimeout.toMillis());
                            ch.close();
                        }
                    }, authTimeout.toMillis(), TimeUnit.MILLISECONDS);
                }
            });
        }

        CompletableFuture<Frame> send(long correlationId, long deadlineNanos, LongFunction<Frame> command) {
            CompletableFuture<Frame> future = new CompletableFuture<>();
            if (pending.size() >= maxInFlight) {
                future.completeExceptionally(new SaturatedException(brokerId));
                return future;
            }
            Frame cmd = command.apply(correlationId);
            pending.put(correlationId, new Pending(future, deadlineNanos));
            ready.whenComplete((ch, err) -> {
                if (err != null) {
                    complete(correlationId, null, err);
                    return;
                }
                ch.writeAndFlush(cmd).addListener(w -> {
                    if (!w.isSuccess()) {
                        complete(correlationId, null, w.cause());
                    }
                });
            });
            return future;
        }

        void complete(long correlationId, Frame reply, Throwable error) {
            Pending p = pending.remove(correlationId);
            if (p != null) {
                if (error != null) {
                    p.future.completeExceptionally(error);
                } else {
                    p.future.complete(reply);
                }
            }
        }

        void fail(Throwable cause) {
            dead = true;
            ready.completeExceptionally(cause);
            pending.keySet().forEach(id -> complete(id, null, cause));
        }

        void close() {
            dead = true;
            connect.channel().close();
        }

        /**
         * Answers the broker's LINK_CHALLENGE with this node's proof, checks the broker's proof in
         * its LINK_ACCEPT, then leaves the pipeline and opens the link for commands. Anything else
         * first (a DISCONNECT AUTH_FAILED when the secrets differ) closes the link.
         */
        final class LinkHandshake extends SimpleChannelInboundHandler<Object> {
            private byte[] brokerNonce;
            private byte[] nonce;

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Frame.LinkChallenge c && nonce == null) {
                    brokerNonce = c.nonce();
                    nonce = LinkProof.nonce();
                    ctx.writeAndFlush(new Frame.LinkAuth(nodeId, nonce, proof.peerProof(brokerNonce, nonce, nodeId)));
                } else if (msg instanceof Frame.LinkAccept a && nonce != null) {
                    if (!LinkProof.matches(proof.brokerProof(nonce, brokerNonce), a.proof())) {
                        log.warn("[logic link {}] broker at {} did not prove the cluster secret: closing", brokerId, address);
                        ctx.close();
                        return;
                    }
                    ctx.pipeline().remove(this);
                    log.debug("[logic link {}] authenticated to {}", brokerId, address);
                    ready.complete(ctx.channel());
                } else if (msg instanceof Frame.Disconnect d) {
                    log.warn("[logic link {}] broker at {} refused the link: {} {} (is logic.cluster-secret the broker's?)",
                            brokerId, address, d.reason(), d.message());
                    ctx.close();
                } else {
                    log.warn("[logic link {}] unexpected {} during the handshake: closing", brokerId,
                            msg instanceof Frame f ? f.type() : msg);
                    ctx.close();
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                log.debug("[logic link {}] {}", brokerId, cause.toString());
                ctx.close();
            }
        }

        final class Replies extends SimpleChannelInboundHandler<Object> {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Frame.PushResult r) {
                    complete(r.correlationId(), r, null);
                } else if (msg instanceof Frame.PushBatchResult r) {
                    complete(r.correlationId(), r, null);
                } else if (msg instanceof Frame.BroadcastResult r) {
                    complete(r.correlationId(), r, null);
                } else if (msg instanceof DecodeFailure f) {
                    log.warn("[logic link {}] undecodable reply ({}): closing", brokerId, f.detail());
                    ctx.close();
                } else {
                    log.warn("[logic link {}] unexpected frame {}: closing", brokerId, msg);
                    ctx.close();
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                log.debug("[logic link {}] {}", brokerId, cause.toString());
                ctx.close();
            }
        }
    }
}
