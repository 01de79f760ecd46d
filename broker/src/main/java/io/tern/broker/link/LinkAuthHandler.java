package io.tern.broker.link;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Disconnects;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.ReasonCode;
import io.tern.protocol.link.LinkProof;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Holds the internal port's door until the peer proves the cluster secret: on connect it sends
 * LINK_CHALLENGE with a fresh nonce; the first frame back must be a LINK_AUTH whose proof
 * matches (compared in constant time), within the auth timeout. Then it answers LINK_ACCEPT with
 * the broker's own proof over the peer's nonce (so the peer knows the broker has the secret too)
 * and puts the command handler in its place. Anything else (no answer, a wrong proof, or any
 * other frame first) is DISCONNECT AUTH_FAILED, and no frame of that peer is acted on.
 * One instance per connection; it sits right after the codec, so TLS can go in front of it.
 */
public final class LinkAuthHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(LinkAuthHandler.class);

    private final String brokerId;
    private final LinkProof proof;
    private final Duration timeout;
    private final ChannelHandler commands;
    private final Disconnects disconnects;
    private final BrokerMetrics metrics;
    private byte[] nonce;
    private ScheduledFuture<?> timer;
    private boolean done;

    /** @param commands what reads the peer's frames once it is authenticated */
    public LinkAuthHandler(String brokerId, LinkProof proof, Duration timeout, ChannelHandler commands,
                           Disconnects disconnects, BrokerMetrics metrics) {
        this.brokerId = brokerId;
        this.proof = proof;
        this.timeout = timeout;
        this.commands = commands;
        this.disconnects = disconnects;
        this.metrics = metrics;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        nonce = LinkProof.nonce();
        timer = ctx.executor().schedule(() -> refuse(ctx, "no LINK_AUTH within " + timeout.toMillis() + " ms"),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        ctx.writeAndFlush(new Frame.LinkChallenge(nonce), ctx.voidPromise());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Frame frame)) {
            ctx.fireChannelRead(msg); // decode failures: the error handler disconnects
            return;
        }
        if (done) {
            ReferenceCountUtil.release(msg);
            return; // refused: later frames of the same read are not acted on
        }
        if (!(frame instanceof Frame.LinkAuth auth)) {
            refuse(ctx, frame.type() + " before LINK_AUTH");
            return;
        }
        if (nonce == null || !LinkProof.matches(proof.peerProof(nonce, auth.nonce(), auth.peerId()), auth.proof())) {
            refuse(ctx, "wrong LINK_AUTH proof");
            return;
        }
        done = true;
        timer.cancel(false);
        metrics.linkAuthenticated();
        log.info("[broker {} internal] link from {} ({}) authenticated", brokerId, printable(auth.peerId()),
                ctx.channel().remoteAddress());
        ctx.writeAndFlush(new Frame.LinkAccept(proof.brokerProof(auth.nonce(), nonce)), ctx.voidPromise());
        ctx.pipeline().replace(this, "push-commands", commands);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
        if (done) {
            return;
        }
        done = true;
        if (timer != null) {
            timer.cancel(false);
        }
        metrics.linkRefused();
        log.warn("[broker {} internal] refused link from {}: {}", brokerId, ctx.channel().remoteAddress(), why);
        disconnects.send(ctx.channel(), ReasonCode.AUTH_FAILED, why);
    }

    /** A peer id is the peer's claim: keep a log line one line and short. */
    private static String printable(String s) {
        String cut = s.length() > 64 ? s.substring(0, 64) : s;
        return cut.replaceAll("[^A-Za-z0-9._:-]", "?");
    }
}
