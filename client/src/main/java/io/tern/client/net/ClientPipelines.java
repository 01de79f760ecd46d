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
 * <li>TCP: {@code tls? → frame decoder(max) → frame encoder → [idle, added at CONNACK] → session}</li>
 * <li>WebSocket: {@code tls? → http codec → aggregator → ws protocol (subprotocol tern.v1) →
 * unwrap → wrap → frame decoder(max) → frame encoder → [idle] → session}</li>
 * </ul>
 */
public final class ClientPipelines {
    /** The HTTP upgrade answer is headers only; this bounds the aggregator. */
    private static final int MAX_UPGRADE_RESPONSE = 8 * 1024;

    private ClientPipelines() {
    }

    /** @param tls the trusted CAs' context, null for plain TCP */
    public static ChannelInitializer<Channel> tcp(BrokerAddress address, int maxFrameBody, SslContext tls,
                                                  Supplier<SessionHandler> session) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (tls != null) {
                    // Host given: SNI, and the certificate must name it.
                    ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), address.host(), address.port()));
                }
                ch.pipeline()
                        .addLast("frameDecoder", new FrameDecoder(maxFrameBody))
                        .addLast("frameEncoder", FrameEncoder.INSTANCE)
                        .addLast("session", session.get());
            }
        };
    }

    /**
     * @param tls the trusted CAs' context: used for every address when set (ws:// ones too); when
     *            null, wss:// addresses use the JDK trust store
     */
    public static ChannelInitializer<Channel> webSocket(BrokerAddress address, int maxFrameBody,
                                                        long handshakeTimeoutMillis, SslContext tls,
                                                        Supplier<SessionHandler> session) {
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
                if (tls != null || address.tls()) {
                    SslContext context = tls != null ? tls : Tls.CONTEXT;
                    p.addLast("tls", context.newHandler(ch.alloc(), address.host(), address.port()));
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
