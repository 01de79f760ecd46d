package io.tern.broker;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.link.LinkProof;
import io.tern.protocol.websocket.WebSocketFrameAdapters;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A raw-frame peer for tests: a device over TCP or WebSocket, or a logic node on the internal
 * port. Everything it receives (frames and decode failures) lands in a queue; every wait is bounded.
 */
final class FrameClient implements AutoCloseable {
    /** Only ever waited out when a test fails: generous, for a loaded machine (a catch-up read took over 5 s). */
    static final Duration WAIT = Duration.ofSeconds(15);
    private static final EventLoopGroup GROUP =
            new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("test-frame-client", true), NioIoHandler.newFactory());

    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> webSocketReady = new CompletableFuture<>();
    private Channel channel;
    private volatile Future<Channel> handshake;

    private FrameClient() {
    }

    static FrameClient tcp(InetSocketAddress address) {
        return tcp(address, null);
    }

    /** @param tls a client context (trusted CA, maybe a client certificate); null for plain */
    static FrameClient tcp(InetSocketAddress address, SslContext tls) {
        FrameClient c = new FrameClient();
        c.channel = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        c.addTls(ch, tls, address);
                        ch.pipeline().addLast(new FrameDecoder(64 * 1024), FrameEncoder.INSTANCE, c.new Collector());
                    }
                })
                .connect(address).syncUninterruptibly().channel();
        return c;
    }

    /**
     * A logic node's link to a broker's internal port, authenticated with {@code clusterSecret}
     * (checks the broker's proof too): ready for commands.
     */
    static FrameClient internal(InetSocketAddress address, String clusterSecret) {
        return internal(address, clusterSecret, null);
    }

    /** {@link #internal(InetSocketAddress, String)} over TLS when {@code tls} is not null. */
    static FrameClient internal(InetSocketAddress address, String clusterSecret, SslContext tls) {
        FrameClient c = tls == null ? tcp(address) : tcp(address, tls);
        Frame.LinkChallenge challenge = c.expect(Frame.LinkChallenge.class);
        LinkProof proof = new LinkProof(clusterSecret);
        byte[] nonce = LinkProof.nonce();
        c.send(new Frame.LinkAuth("it-logic", nonce, proof.peerProof(challenge.nonce(), nonce, "it-logic")));
        Frame.LinkAccept accept = c.expect(Frame.LinkAccept.class);
        assertTrue(LinkProof.matches(proof.brokerProof(nonce, challenge.nonce()), accept.proof()),
                "the broker proved the cluster secret");
        return c;
    }

    /** {@link #internal(InetSocketAddress, String)} with the secret of {@link TestBrokers#config}. */
    static FrameClient internal(InetSocketAddress address) {
        return internal(address, TestBrokers.CLUSTER_SECRET);
    }

    static FrameClient webSocket(InetSocketAddress address) {
        return webSocket(address, null);
    }

    static FrameClient webSocket(InetSocketAddress address, SslContext tls) {
        FrameClient c = new FrameClient();
        URI uri = URI.create((tls == null ? "ws://" : "wss://") + address.getHostString() + ':' + address.getPort() + WebSocketFrameAdapters.PATH);
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(uri)
                .subprotocol(WebSocketFrameAdapters.SUBPROTOCOL)
                .version(WebSocketVersion.V13)
                .customHeaders(new DefaultHttpHeaders())
                .maxFramePayloadLength(64 * 1024)
                .build();
        c.channel = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        c.addTls(ch, tls, address);
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(8192),
                                new WebSocketClientProtocolHandler(config),
                                WebSocketFrameAdapters.Unwrap.INSTANCE, WebSocketFrameAdapters.Wrap.INSTANCE,
                                new FrameDecoder(64 * 1024), FrameEncoder.INSTANCE, c.new Collector());
                    }
                })
                .connect(address).syncUninterruptibly().channel();
        c.webSocketReady.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
        return c;
    }

    private void addTls(SocketChannel ch, SslContext tls, InetSocketAddress address) {
        if (tls != null) {
            SslHandler h = tls.newHandler(ch.alloc(), address.getHostString(), address.getPort());
            handshake = h.handshakeFuture();
            ch.pipeline().addLast("tls", h);
        }
    }

    /** The TLS handshake's outcome, waited for up to {@link #WAIT}; null cause = it succeeded. */
    Throwable awaitHandshake() {
        assertNotNull(handshake, "not a TLS client");
        assertTrue(handshake.awaitUninterruptibly(WAIT.toMillis()), "TLS handshake still running after " + WAIT);
        return handshake.cause();
    }

    void send(Frame frame) {
        channel.writeAndFlush(frame).syncUninterruptibly();
    }

    /** Writes {@code frame}; false when the write failed because the peer had already closed the connection. */
    boolean trySend(Frame frame) {
        return channel.writeAndFlush(frame).awaitUninterruptibly().isSuccess();
    }

    /**
     * Several frames in one write, so the peer reads them together (and a peer that closes after
     * the first cannot fail the second send).
     */
    void sendTogether(Frame... frames) {
        ByteBuf buf = Unpooled.buffer();
        for (Frame f : frames) {
            FrameCodec.encode(f, buf);
        }
        channel.writeAndFlush(buf).syncUninterruptibly();
    }

    /** Bytes as they are: the TCP encoder passes buffers through. */
    void sendRaw(byte[] bytes) {
        channel.writeAndFlush(Unpooled.wrappedBuffer(bytes)).syncUninterruptibly();
    }

    /** A WebSocket text message (WebSocket clients only): the protocol speaks binary messages only. */
    void sendText(byte[] bytes) {
        channel.writeAndFlush(new io.netty.handler.codec.http.websocketx.TextWebSocketFrame(Unpooled.wrappedBuffer(bytes)))
                .syncUninterruptibly();
    }

    /** Sends CONNECT and returns the CONNACK. */
    Frame.ConnAck connect(String appId, String regId, String token) {
        send(new Frame.Connect(appId, regId, token, 0L));
        return expect(Frame.ConnAck.class);
    }

    Object next(Duration wait) {
        try {
            return received.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    <T> T expect(Class<T> type) {
        Object o = next(WAIT);
        assertNotNull(o, "nothing received within " + WAIT + ", wanted " + type.getSimpleName());
        return assertInstanceOf(type, o, "received " + o);
    }

    /** The next frame is DISCONNECT with {@code reason}, and the broker then closes the connection. */
    Frame.Disconnect expectDisconnect(ReasonCode reason) {
        Frame.Disconnect d = expect(Frame.Disconnect.class);
        assertEquals(reason, d.reason(), "disconnect: " + d);
        awaitClosed();
        return d;
    }

    void awaitClosed() {
        assertTrue(channel.closeFuture().awaitUninterruptibly(WAIT.toMillis()), "connection still open after " + WAIT);
    }

    /** Nothing more arrives within {@code wait}. */
    void expectSilence(Duration wait) {
        Object o = next(wait);
        assertEquals(null, o, "unexpected " + o);
    }

    boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(WAIT.toMillis());
    }

    private final class Collector extends SimpleChannelInboundHandler<Object> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            received.add(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                webSocketReady.complete(null);
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
