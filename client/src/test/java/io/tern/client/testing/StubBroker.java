package io.tern.client.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.websocket.WebSocketFrameAdapters;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * Stand-in for a broker in the SDK's own tests (the real broker is another module): a Netty
 * server on 127.0.0.1 speaking the protocol module's frames over TCP or WebSocket. It answers
 * CONNECT with whatever {@link #onConnect} returns (by default the CONNACK of a broker without
 * cumulative acks; a DISCONNECT or REDIRECT is followed by a close), answers PING with PONG and
 * records every frame it receives ({@link #acks} has the msgIds of ACKs and ACKS alike).
 * Needs an NIO event loop group.
 */
public final class StubBroker implements AutoCloseable {
    private final Channel server;
    private final boolean webSocket;
    private final List<Frame.Connect> connects = new CopyOnWriteArrayList<>();
    private final List<Long> acks = new CopyOnWriteArrayList<>();
    private final List<Frame> received = new CopyOnWriteArrayList<>();
    private final List<InetSocketAddress> peers = new CopyOnWriteArrayList<>();
    private volatile Function<Frame.Connect, Frame> onConnect = c -> new Frame.ConnAck(30, System.currentTimeMillis());
    private volatile Channel session;

    private StubBroker(EventLoopGroup group, boolean webSocket) throws InterruptedException {
        this.webSocket = webSocket;
        this.server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        if (webSocket) {
                            p.addLast(new HttpServerCodec())
                                    .addLast(new HttpObjectAggregator(64 * 1024))
                                    .addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                            .websocketPath(WebSocketFrameAdapters.PATH)
                                            .subprotocols(WebSocketFrameAdapters.SUBPROTOCOL)
                                            .build()))
                                    .addLast(WebSocketFrameAdapters.Unwrap.INSTANCE)
                                    .addLast(WebSocketFrameAdapters.Wrap.INSTANCE);
                        }
                        p.addLast(new FrameDecoder(FrameHeader.DEFAULT_MAX_BODY))
                                .addLast(FrameEncoder.INSTANCE)
                                .addLast(new Handler());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    public static StubBroker tcp(EventLoopGroup group) throws InterruptedException {
        return new StubBroker(group, false);
    }

    public static StubBroker webSocket(EventLoopGroup group) throws InterruptedException {
        return new StubBroker(group, true);
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** {@code 127.0.0.1:port}, or the ws URI for a WebSocket broker. */
    public String address() {
        return webSocket ? "ws://127.0.0.1:" + port() + WebSocketFrameAdapters.PATH : "127.0.0.1:" + port();
    }

    public StubBroker onConnect(Function<Frame.Connect, Frame> onConnect) {
        this.onConnect = onConnect;
        return this;
    }

    public List<Frame.Connect> connects() {
        return connects;
    }

    public List<Long> acks() {
        return acks;
    }

    public List<Frame> received() {
        return received;
    }

    public List<InetSocketAddress> peers() {
        return peers;
    }

    /** The last connection that got a CONNACK. */
    public Channel session() {
        return session;
    }

    public void push(long msgId, String json) {
        push(new Frame.Push(msgId, 0, PayloadKind.DATA, json.getBytes(StandardCharsets.UTF_8)));
    }

    public void push(Frame.Push push) {
        session.writeAndFlush(push);
    }

    /** Sends {@code frame} on the live session and closes it. */
    public void sendAndClose(Frame frame) {
        session.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
    }

    public void closeSession() {
        session.close().syncUninterruptibly();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        Channel s = session;
        if (s != null) {
            s.close().syncUninterruptibly();
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<Object> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof Frame)) {
                ctx.close(); // a DecodeFailure: the client sent garbage
                return;
            }
            Frame frame = (Frame) msg;
            received.add(frame);
            switch (frame.type()) {
                case CONNECT: {
                    Frame.Connect c = (Frame.Connect) frame;
                    connects.add(c);
                    peers.add((InetSocketAddress) ctx.channel().remoteAddress());
                    Frame reply = onConnect.apply(c);
                    if (reply instanceof Frame.ConnAck) {
                        session = ctx.channel();
                        ctx.writeAndFlush(reply);
                    } else {
                        ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
                    }
                    break;
                }
                case PING:
                    ctx.writeAndFlush(Frame.Pong.INSTANCE);
                    break;
                case ACK:
                    acks.add(((Frame.Ack) frame).msgId());
                    break;
                case ACKS:
                    for (long id : ((Frame.Acks) frame).msgIds()) {
                        acks.add(id);
                    }
                    break;
                case DISCONNECT:
                    ctx.close();
                    break;
                default:
                    break;
            }
        }
    }
}
