package io.tern.broker.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.frame.RetryAfter;
import io.tern.protocol.token.ConnectToken;
import io.tern.protocol.token.ConnectTokenSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Holds the door until a valid CONNECT: starts the handshake timer, verifies the token locally
 * (no store round trip) against the frame's appId and regId, registers the session, answers
 * CONNACK and hands over to a {@link SessionHandler}, so an authenticated connection carries
 * none of this state. Every failed handshake is counted against the source address
 * ({@link FailedHandshakeLimiter}); an address over its limit is refused SERVER_BUSY at accept and
 * at CONNECT, without verifying anything. A valid CONNECT is then refused REGION_MOVED while this
 * broker's region is failed over (the device re-dispatches to the serving region), or SERVER_BUSY with a
 * retry hint ({@link io.tern.protocol.frame.RetryAfter}) beyond the broker's admission rate. One
 * instance per connection (the timer, the accept time and the busy flag are per connection).
 * <p>
 * Last in the pipeline until then, it also counts the frames in and ends the pipeline
 * ({@link PeerErrors}: malformed input, exceptions), as the {@link SessionHandler} does after it.
 */
public final class AuthHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AuthHandler.class);

    static final String TOO_MANY_FAILURES = "too many failed handshakes from this address";
    static final String ADMISSION_LIMIT = "admission limit";

    private final DeviceServices services;
    private final boolean webSocket;
    private final boolean busy;
    private ScheduledFuture<?> handshakeTimer;
    private long acceptedAtNanos;
    private boolean upgraded;
    private boolean done;

    /**
     * @param webSocket frames can only be sent once the WebSocket handshake completed
     * @param busy      the connection is over the broker's limit: refuse it with SERVER_BUSY
     */
    public AuthHandler(DeviceServices services, boolean webSocket, boolean busy) {
        this.services = services;
        this.webSocket = webSocket;
        this.busy = busy;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        acceptedAtNanos = services.connectStats().nanoTime();
        if (services.handshakes().limited(source(ctx))) {
            // Before the timer and before any byte is read: a flooding address costs an accept.
            refuse(ctx, ReasonCode.SERVER_BUSY, TOO_MANY_FAILURES);
            ctx.fireChannelActive();
            return;
        }
        handshakeTimer = ctx.executor().schedule(() -> {
            failed(ctx);
            refuse(ctx, ReasonCode.HANDSHAKE_TIMEOUT, "no CONNECT within " + services.handshakeTimeout().toMillis() + " ms");
        }, services.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        if (busy && !webSocket) {
            refuse(ctx, ReasonCode.SERVER_BUSY, "broker is at its connection limit");
        }
        ctx.fireChannelActive();
    }

    private static InetAddress source(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
    }

    private void failed(ChannelHandlerContext ctx) {
        services.connectStats().failed();
        services.handshakes().failed(source(ctx));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            upgraded = true;
            if (busy) {
                refuse(ctx, ReasonCode.SERVER_BUSY, "broker is at its connection limit");
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Frame frame)) {
            PeerErrors.unhandled(ctx, msg, services.brokerId(), listener(), services.disconnects());
            return;
        }
        services.metrics().frameIn(listener(), frame.type());
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (frame instanceof Frame.Connect connect) {
            authenticate(ctx, connect);
        } else {
            failed(ctx);
            refuse(ctx, ReasonCode.PROTOCOL_VIOLATION, frame.type() + " before CONNECT");
        }
    }

    private void authenticate(ChannelHandlerContext ctx, Frame.Connect connect) {
        if (services.sessions().shuttingDown()) {
            refuse(ctx, ReasonCode.SERVER_SHUTTING_DOWN, "broker is stopping");
            return;
        }
        if (services.handshakes().limited(source(ctx))) {
            refuse(ctx, ReasonCode.SERVER_BUSY, TOO_MANY_FAILURES); // no HMAC spent on a flooding address
            return;
        }
        long now = services.clock().getAsLong();
        ConnectTokenSigner.Verification v = services.signer().verify(connect.token(), now);
        if (!v.valid()) {
            fail(ctx, connect, v.reason(), v.detail());
            return;
        }
        ConnectToken claims = v.claims();
        if (!claims.appId().equals(connect.appId()) || !claims.regId().equals(connect.regId())) {
            fail(ctx, connect, ReasonCode.TOKEN_INVALID, "token is for another device");
            return;
        }
        if (services.regionFailedOver().getAsBoolean()) {
            refuse(ctx, ReasonCode.REGION_MOVED, "this broker's region is failed over; ask the dispatcher again");
            return;
        }
        if (!services.admission().tryAdmit()) {
            services.connectStats().refused();
            services.metrics().admissionRefused();
            refuse(ctx, ReasonCode.SERVER_BUSY, RetryAfter.append(ADMISSION_LIMIT, services.admission().retryHintMillis()));
            return;
        }
        done = true;
        cancelTimer();
        Sessions.Opened opened = services.sessions().open(connect.appId(), connect.regId(), claims.region(),
                ctx.channel(), webSocket);
        services.connectStats().admitted(acceptedAtNanos);
        // CONNACK goes out in this event-loop task, before any PUSH another thread may write to the
        // now registered channel: those writes are queued behind this task.
        ctx.writeAndFlush(services.connAck(connect.cumulativeAcks(), now));
        ctx.pipeline().replace(this, "session", new SessionHandler(services, opened.session()));
        Session replaced = opened.replaced();
        if (replaced != null && replaced.channel() != ctx.channel()) {
            log.debug("[broker {} app={} reg={}] replaces connection {}", services.brokerId(), connect.appId(),
                    connect.regId(), replaced.channel().remoteAddress());
            services.disconnects().send(replaced, ReasonCode.SESSION_REPLACED, "a newer connection took over");
        }
        services.lifecycle().opened(opened.session(), connect.lastBroadcastSeq());
        log.debug("[broker {}] {} connected from {}", services.brokerId(), opened.session(), ctx.channel().remoteAddress());
    }

    private void fail(ChannelHandlerContext ctx, Frame.Connect connect, ReasonCode reason, String detail) {
        services.metrics().authFailure(reason);
        failed(ctx);
        log.debug("[broker {} app={} reg={}] refused from {}: {} ({})", services.brokerId(), connect.appId(),
                connect.regId(), ctx.channel().remoteAddress(), reason, detail);
        refuse(ctx, reason, detail);
    }

    private void refuse(ChannelHandlerContext ctx, ReasonCode reason, String detail) {
        if (done) {
            return;
        }
        done = true;
        cancelTimer();
        if (webSocket && !upgraded) {
            ctx.close(); // still speaking HTTP: no frame can be sent yet
            return;
        }
        services.disconnects().send(ctx.channel(), reason, detail);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        PeerErrors.caught(ctx, cause, services.brokerId(), listener());
    }

    private BrokerMetrics.Listener listener() {
        return BrokerMetrics.Listener.device(webSocket);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelTimer();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
    }

    private void cancelTimer() {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
            handshakeTimer = null;
        }
    }
}
