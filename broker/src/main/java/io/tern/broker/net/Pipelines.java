package io.tern.broker.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.tern.broker.delivery.PushCommandHandler;
import io.tern.broker.link.LinkAuthHandler;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.AuthHandler;
import io.tern.broker.session.DeviceFrameCodec;
import io.tern.broker.session.DeviceServices;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.FrameType;
import io.tern.protocol.link.LinkProof;
import io.tern.protocol.websocket.WebSocketFrameAdapters;
import io.tern.runtime.tls.ServerTls;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * Assembles the three pipelines and does nothing else. A device pipeline reads:
 * tls? → codec (frame decoder(max) and encoder, counts frames out) → auth (replaced by session once
 * the device is authenticated; either counts frames in and ends the pipeline: decode failures,
 * exceptions, see {@link io.tern.broker.session.PeerErrors}); the WebSocket one puts the HTTP
 * upgrade and the binary-message adapters in front of the same handlers. Stateless handlers are
 * shared by every connection; the codec and auth / session are per connection. Idle connections are
 * found by one sweep per event loop ({@link io.tern.broker.session.IdleSweeper}), not by a handler and
 * timer per connection. Device pipelines are kept short because every handler costs each idle
 * connection a context object (about 64 bytes): decoding and encoding share one, frame counting and
 * error handling have none of their own. The internal pipeline, a handful of links, has each as a handler of its own.
 */
public final class Pipelines {
    /**
     * On the internal port flushes are batched per event-loop turn: a read of many commands ends
     * in one syscall for all their results, and WRITTEN results from device loops are gathered
     * the same way. Device connections go without: a device sends one frame per read and gets
     * one reply, so the handler would cost every idle connection ~120 bytes for nothing.
     */
    private static final int EXPLICIT_FLUSH_AFTER = 256;
    /** Headers of the upgrade request; devices send a short GET. */
    private static final int MAX_UPGRADE_REQUEST = 8192;

    private final DeviceServices device;
    private final int maxFrameBody;
    private final Consumer<FrameType> tcpFramesOut;
    private final Consumer<FrameType> wsFramesOut;
    private final FrameMetricsHandler internalMetrics;
    private final PushCommandHandler pushCommands;
    private final ErrorHandler internalErrors;
    private final ServerTls deviceTls;
    private final ServerTls internalTls;
    private final LinkProof linkProof;
    private final Duration linkAuthTimeout;

    /**
     * @param deviceTls       TLS in front of the device pipelines, null for plain only
     * @param internalTls     TLS in front of the internal pipeline, null for plain only
     * @param linkProof       the cluster secret every internal link must prove
     * @param linkAuthTimeout how long a new internal link has to prove it
     */
    public Pipelines(DeviceServices device, PushCommandHandler pushCommands, int maxFrameBody, ServerTls deviceTls,
                     ServerTls internalTls, LinkProof linkProof, Duration linkAuthTimeout) {
        this.device = device;
        this.maxFrameBody = maxFrameBody;
        BrokerMetrics metrics = device.metrics();
        this.tcpFramesOut = type -> metrics.frameOut(BrokerMetrics.Listener.TCP, type);
        this.wsFramesOut = type -> metrics.frameOut(BrokerMetrics.Listener.WS, type);
        this.internalMetrics = new FrameMetricsHandler(metrics, BrokerMetrics.Listener.INTERNAL);
        this.pushCommands = pushCommands;
        this.internalErrors = new ErrorHandler(device.brokerId(), BrokerMetrics.Listener.INTERNAL, device.disconnects());
        this.deviceTls = deviceTls;
        this.internalTls = internalTls;
        this.linkProof = linkProof;
        this.linkAuthTimeout = linkAuthTimeout;
    }

    /** TLS goes first, in front of everything that reads bytes. */
    private static void addTls(Channel ch, ServerTls tls) {
        if (tls != null) {
            ch.pipeline().addLast("tls", tls.newHandler(ch));
        }
    }

    /**
     * Largest command body: a PUSH_BATCH needs {@link FrameHeader#INTERNAL_MAX_BODY}; a device
     * limit raised beyond that still leaves room for a PushCommand of a device-sized PUSH plus the
     * correlation id and two ids.
     */
    static int internalMaxBody(int deviceMaxBody) {
        return Math.min(FrameHeader.ABSOLUTE_MAX_BODY, Math.max(FrameHeader.INTERNAL_MAX_BODY,
                deviceMaxBody + 8 + 2 * (2 + FrameCodec.MAX_STRING_BYTES)));
    }

    public ChannelInitializer<Channel> tcp() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                boolean busy = !device.limiter().admit(ch);
                addTls(ch, deviceTls);
                ch.pipeline()
                        .addLast("codec", new DeviceFrameCodec(maxFrameBody, tcpFramesOut))
                        .addLast("auth", new AuthHandler(device, false, busy));
            }
        };
    }

    public ChannelInitializer<Channel> webSocket() {
        WebSocketServerProtocolConfig ws = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(WebSocketFrameAdapters.PATH)
                .subprotocols(WebSocketFrameAdapters.SUBPROTOCOL)
                .checkStartsWith(false)
                .allowExtensions(false)
                // One Tern frame per binary message: the header plus the largest body.
                .maxFramePayloadLength(FrameHeader.SIZE + maxFrameBody)
                .handshakeTimeoutMillis(device.handshakeTimeout().toMillis())
                .build();
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                boolean busy = !device.limiter().admit(ch);
                addTls(ch, deviceTls);
                ch.pipeline()
                        .addLast("http", new HttpServerCodec(4096, MAX_UPGRADE_REQUEST, 8192))
                        .addLast("aggregator", new HttpObjectAggregator(MAX_UPGRADE_REQUEST))
                        .addLast("websocket", new WebSocketServerProtocolHandler(ws))
                        .addLast("not-websocket", HttpFallbackHandler.INSTANCE)
                        .addLast("unwrap", WebSocketFrameAdapters.Unwrap.INSTANCE)
                        .addLast("wrap", WebSocketFrameAdapters.Wrap.INSTANCE)
                        .addLast("codec", new DeviceFrameCodec(maxFrameBody, wsFramesOut))
                        .addLast("auth", new AuthHandler(device, true, busy));
            }
        };
    }

    /**
     * Logic nodes' persistent connections: PushCommand / PushBatch / Broadcast in, their results
     * out, once the link proved the cluster secret (the link-auth handler then makes way for the
     * command handler).
     */
    public ChannelInitializer<Channel> internal() {
        int max = internalMaxBody(maxFrameBody);
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                addTls(ch, internalTls);
                ch.pipeline()
                        .addLast("flush", new FlushConsolidationHandler(EXPLICIT_FLUSH_AFTER, true))
                        .addLast("decoder", new FrameDecoder(max))
                        .addLast("encoder", FrameEncoder.INSTANCE)
                        .addLast("metrics", internalMetrics)
                        .addLast("link-auth", new LinkAuthHandler(device.brokerId(), linkProof, linkAuthTimeout,
                                pushCommands, device.disconnects(), device.metrics()))
                        .addLast("errors", internalErrors);
            }
        };
    }
}
