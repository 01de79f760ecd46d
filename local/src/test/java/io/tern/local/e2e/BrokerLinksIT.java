package io.tern.local.e2e;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.tern.broker.Broker;
import io.tern.broker.config.BrokerConfig;
import io.tern.devstack.SharedInfra;
import io.tern.pipeline.link.BrokerLinks;
import io.tern.protocol.codec.FrameDecoder;
import io.tern.protocol.codec.FrameEncoder;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.frame.PayloadKind;
import io.tern.protocol.frame.PushOutcome;
import io.tern.protocol.link.LinkProof;
import io.tern.runtime.config.Settings;
import io.tern.store.registry.BrokerInfo;
import io.tern.store.topic.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The logic node's broker links against a real broker (real Redis and Kafka): with the cluster
 * secret a command sent before the link exists waits for the handshake and then goes through;
 * with another secret the broker refuses the link and the command fails; and a "broker" that
 * cannot prove the secret is never sent a command.
 */
class BrokerLinksIT {
    private static final String SECRET = "ops-it-cluster-secret-" + UUID.randomUUID();
    private static Broker broker;

    @BeforeAll
    static void start() {
        SharedInfra.kafka().createTopics(Topics.ACKS);
        Map<String, String> m = new HashMap<>();
        m.put("broker.id", "links-" + UUID.randomUUID().toString().substring(0, 8));
        m.put("broker.tcp-port", "0");
        m.put("broker.ws-port", "0");
        m.put("broker.internal-port", "0");
        m.put("broker.admin-port", "0");
        m.put("broker.io-threads", "1");
        m.put("broker.redis-uri", SharedInfra.redis().uri());
        m.put("broker.kafka-bootstrap", SharedInfra.kafka().bootstrapServers());
        m.put("broker.shutdown-drain", "1s");
        m.put("broker.cluster-secret", SECRET);
        m.put("broker.dev-mode", "true");
        broker = Broker.start(BrokerConfig.from(Settings.of(m)));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static BrokerLinks links(String secret) {
        return new BrokerLinks("it-logic", new LinkProof(secret), Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofSeconds(5), Duration.ofSeconds(10), 100, null);
    }

    private static BrokerInfo info(String id, InetSocketAddress internal) {
        return new BrokerInfo(id, "local", "unused:1", "ws://unused:1/v1/ws", "127.0.0.1:" + internal.getPort(), 0, 0);
    }

    private static Frame.Push push() {
        return new Frame.Push(42, System.currentTimeMillis() + 60_000, PayloadKind.DATA, "{}".getBytes());
    }

    private static double refused() {
        return broker.observability().registry().get("tern.broker.links.refused").counter().count();
    }

    @Test
    void withTheClusterSecretACommandWaitsForTheHandshakeThenGoesThrough() {
        try (BrokerLinks links = links(SECRET)) {
            double before = broker.observability().registry().get("tern.broker.links.authenticated").counter().count();
            // Sent at once: the link is not even connected yet.
            CompletableFuture<PushOutcome> outcome = links.send(info(broker.id(), broker.internalAddress()), "app",
                    "nobody", push());
            assertEquals(PushOutcome.NOT_CONNECTED, outcome.orTimeout(10, TimeUnit.SECONDS).join());
            assertEquals(before + 1,
                    broker.observability().registry().get("tern.broker.links.authenticated").counter().count());
        }
    }

    @Test
    void withAnotherSecretTheBrokerRefusesTheLinkAndTheCommandFails() {
        double before = refused();
        try (BrokerLinks links = links("some-other-cluster-secret")) {
            CompletableFuture<PushOutcome> outcome = links.send(info(broker.id(), broker.internalAddress()), "app",
                    "nobody", push());
            CompletionException e = assertThrows(CompletionException.class,
                    () -> outcome.orTimeout(10, TimeUnit.SECONDS).join());
            assertInstanceOf(IllegalStateException.class, e.getCause(), "link closed: " + e.getCause());
        }
        assertEquals(before + 1, refused());
    }

    @Test
    void aBrokerThatCannotProveTheSecretIsNeverSentACommand() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        List<Object> received = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        try {
            Channel impostor = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.closeFuture().addListener(f -> closed.complete(null));
                            ch.pipeline().addLast(new FrameDecoder(FrameHeader.INTERNAL_MAX_BODY), FrameEncoder.INSTANCE,
                                    new SimpleChannelInboundHandler<Object>() {
                                        @Override
                                        public void channelActive(ChannelHandlerContext ctx) {
                                            ctx.writeAndFlush(new Frame.LinkChallenge(LinkProof.nonce()));
                                        }

                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                            received.add(msg);
                                            if (msg instanceof Frame.LinkAuth) {
                                                // Accepts without knowing the secret: a proof of zeros.
                                                ctx.writeAndFlush(new Frame.LinkAccept(new byte[Frame.LINK_NONCE_BYTES]));
                                            }
                                        }
                                    });
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            try (BrokerLinks links = links(SECRET)) {
                CompletableFuture<PushOutcome> outcome = links.send(
                        info("impostor", (InetSocketAddress) impostor.localAddress()), "app", "r1", push());
                assertThrows(CompletionException.class, () -> outcome.orTimeout(10, TimeUnit.SECONDS).join());
            }
            closed.orTimeout(10, TimeUnit.SECONDS).join(); // everything the link sent has been read
            assertEquals(1, received.size(), "only the LINK_AUTH: " + received);
            assertTrue(received.get(0) instanceof Frame.LinkAuth, "got " + received);
            impostor.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
