package io.tern.broker.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.tern.broker.delivery.PushCommandHandler;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.AuthHandler;
import io.tern.broker.session.DeviceServices;
import io.tern.broker.session.SessionHandler;
import io.tern.protocol.codec.FrameCodec;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.websocket.WebSocketFrameAdapters;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Assembles the three pipelines and does nothing else. A device pipeline reads:
 * frame decoder(max) → encoder → frame metrics → decode failures → idle → auth → session →
 * exceptions; the WebSocket one puts the HTTP upgrade and the binary-message adapters in
 * front of the same handlers. Stateless handlers are shared by every connection; the
 * decoder, the idle timer and the auth handler are per connection, and auth leaves once done.
 */
public final class Pipelines {
    /**
     * Flushes are batched per event-loop turn: a read of many frames (or many PushResults) ends
     * in one syscall, and pushes from other threads are gathered the same way.
     */
    private static final int EXPLICIT_FLUSH_AFTER = 256;
    /** Headers of the upgrade request; devices send a short GET. */
    private static final int MAX_UPGRADE_REQUEST = 8192;

    private final DeviceServices device;
    private final int maxFrameBody;
    private final long idleTimeoutMillis;
    private final SessionHandler sessionHandler;
    private final DecodeFailureHandler decodeFailures;
    private final FrameMetricsHandler tcpMetrics;
    private final FrameMetricsHandler wsMetrics;
    private final FrameMetricsHandler internalMetrics;
    private final PushCommandHandler pushCommands;
    private final ExceptionHandler tcpErrors;
    private final ExceptionHandler wsErrors;
    private final ExceptionHandler internalErrors;

    public Pipelines(DeviceServices device, PushCommandHandler pushCommands, int maxFrameBody, Duration idleTimeout) {
        this.device = device;
        this.maxFrameBody = maxFrameBody;
        this.idleTimeoutMillis = idleTimeout.toMillis();
        this.sessionHandler = new SessionHandler(device);
        this.decodeFailures = new DecodeFailureHandler(device.brokerId(), device.disconnects());
        BrokerMetrics metrics = device.metrics();
        this.tcpMetrics = new FrameMetricsHandler(metrics, BrokerMetrics.Listener.TCP);
        this.wsMetrics = new FrameMetricsHandler(metrics, BrokerMetrics.Listener.WS);
        this.internalMetrics = new FrameMetricsHandler(metrics, BrokerMetrics.Listener.INTERNAL);
        this.pushCommands = pushCommands;
        String id = device.brokerId();
        this.tcpErrors = new ExceptionHandler("broker " + id + " tcp");
        this.wsErrors = new ExceptionHandler("broker " + id + " ws");
        this.internalErrors = new ExceptionHandler("broker " + id + " internal");
    }

    /** Largest PushCommand body: a device-sized PUSH plus the correlation id and two ids. */
    static int internalMaxBody(int deviceMaxBody) {
        return Math.min(FrameHeader.ABSOLUTE_MAX_BODY, deviceMaxBody + 8 + 2 * (2 + FrameCodec.MAX_STRING_BYTES));
    }

    public ChannelInitializer<Channel> tcp() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                boolean busy = !device.limiter().admit(ch);
                ch.pipeline()
                        .addLast("flush", new FlushConsolidationHandler(EXPLICIT_FLUSH_AFTER, true))
                        .addLast("decoder", new FrameDecoder(maxFrameBody))
                        .addLast("encoder", FrameEncoder.INSTANCE)
                        .addLast("metrics", tcpMetrics);
                addDeviceHandlers(ch.pipeline(), false, busy);
                ch.pipeline().addLast("errors", tcpErrors);
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
                ch.pipeline()
                        .addLast("flush", new FlushConsolidationHandler(EXPLICIT_FLUSH_AFTER, true))
                        .addLast("http", new HttpServerCodec(4096, MAX_UPGRADE_REQUEST, 8192))
                        .addLast("aggregator", new HttpObjectAggregator(MAX_UPGRADE_REQUEST))
                        .addLast("websocket", new WebSocketServerProtocolHandler(ws))
                        .addLast("not-websocket", HttpFallbackHandler.INSTANCE)
                        .addLast("unwrap", WebSocketFrameAdapters.Unwrap.INSTANCE)
                        .addLast("wrap", WebSocketFrameAdapters.Wrap.INSTANCE)
                        .addLast("decoder", new FrameDecoder(maxFrameBody))
                        .addLast("encoder", FrameEncoder.INSTANCE)
                        .addLast("metrics", wsMetrics);
                addDeviceHandlers(ch.pipeline(), true, busy);
                ch.pipeline().addLast("errors", wsErrors);
            }
        };
    }

    private void addDeviceHandlers(ChannelPipeline p, boolean webSocket, boolean busy) {
        p.addLast("decode-failures", decodeFailures)
                .addLast("idle", new IdleStateHandler(idleTimeoutMillis, 0, 0, TimeUnit.MILLISECONDS))
                .addLast("auth", new AuthHandler(device, webSocket, busy))
                .addLast("session", sessionHandler);
    }

    /** Logic nodes' persistent connections: PushCommand in, PushResult out. */
    public ChannelInitializer<Channel> internal() {
        int max = internalMaxBody(maxFrameBody);
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline()
                        .addLast("flush", new FlushConsolidationHandler(EXPLICIT_FLUSH_AFTER, true))
                        .addLast("decoder", new FrameDecoder(max))
                        .addLast("encoder", FrameEncoder.INSTANCE)
                        .addLast("metrics", internalMetrics)
                        .addLast("decode-failures", decodeFailures)
                        .addLast("push-commands", pushCommands)
                        .addLast("errors", internalErrors);
            }
        };
    }
}
