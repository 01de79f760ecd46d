package io.tern.client.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.websocket.WebSocketFrameAdapters;

import javax.net.ssl.SSLException;
import java.util.function.Supplier;

/**
 * Assembles a connection's pipeline; no logic of its own.
 * <ul>
 * <li>TCP: {@code frame decoder(max) → frame encoder → [idle, added at CONNACK] → session}</li>
 * <li>WebSocket: {@code tls? → http codec → aggregator → ws protocol (subprotocol tern.v1) →
 * unwrap → wrap → frame decoder(max) → frame encoder → [idle] → session}</li>
 * </ul>
 */
public final class ClientPipelines {
    /** The HTTP upgrade answer is headers only; this bounds the aggregator. */
    private static final int MAX_UPGRADE_RESPONSE = 8 * 1024;

    private ClientPipelines() {
    }

    public static ChannelInitializer<Channel> tcp(int maxFrameBody, Supplier<SessionHandler> session) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline()
                        .addLast("frameDecoder", new FrameDecoder(maxFrameBody))
                        .addLast("frameEncoder", FrameEncoder.INSTANCE)
                        .addLast("session", session.get());
            }
        };
    }

    public static ChannelInitializer<Channel> webSocket(BrokerAddress address, int maxFrameBody,
                                                        long handshakeTimeoutMillis, Supplier<SessionHandler> session) {
        if (!address.webSocket()) {
            throw new IllegalArgumentException("not a WebSocket address: " + address.raw());
        }
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(address.wsUri())
                .subprotocol(WebSocketFrameAdapters.SUBPROTOCOL)
                .maxFramePayloadLength(FrameHeader.SIZE + maxFrameBody)
                .handshakeTimeoutMillis(Math.max(1, handshakeTimeoutMillis))
                .build();
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ChannelPipeline p = ch.pipeline();
                if (address.tls()) {
                    p.addLast("tls", Tls.CONTEXT.newHandler(ch.alloc(), address.host(), address.port()));
                }
                p.addLast("http", new HttpClientCodec())
                        .addLast("aggregator", new HttpObjectAggregator(MAX_UPGRADE_RESPONSE))
                        .addLast("ws", new WebSocketClientProtocolHandler(config))
                        .addLast("unwrap", WebSocketFrameAdapters.Unwrap.INSTANCE)
                        .addLast("wrap", WebSocketFrameAdapters.Wrap.INSTANCE)
                        .addLast("frameDecoder", new FrameDecoder(maxFrameBody))
                        .addLast("frameEncoder", FrameEncoder.INSTANCE)
                        .addLast("session", session.get());
            }
        };
    }

    /** Default JDK trust store, host name verified. Built on first wss:// use. */
    private static final class Tls {
        static final SslContext CONTEXT;

        static {
            try {
                CONTEXT = SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS").build();
            } catch (SSLException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }
}
