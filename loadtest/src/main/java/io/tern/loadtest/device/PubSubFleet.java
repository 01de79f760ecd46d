package io.tern.loadtest.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.redis.ArrayHeaderRedisMessage;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.BulkStringHeaderRedisMessage;
import io.netty.handler.codec.redis.BulkStringRedisContent;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.IntegerRedisMessage;
import io.netty.handler.codec.redis.LastBulkStringRedisContent;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisEncoder;
import io.netty.handler.codec.redis.RedisMessage;
import io.tern.client.net.EventLoops;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The baseline's receivers: {@code count} subscribers of one Redis pub/sub channel, each its own connection from the
 * configured source addresses, on one event loop group as the Tern devices are. A message counts as a Tern device's
 * push does ({@link Receipts}: {@code k} and {@code t} read from the payload, receipt time when it was decoded). Pub/sub
 * has no acknowledgement, so none is sent. A subscriber counts as connected from Redis's SUBSCRIBE confirmation; a
 * lost connection is not re-made (the run reports it). At most {@code maxPending} are between connect and that
 * confirmation.
 */
public final class PubSubFleet extends Fleet {
    /** The channel every subscriber listens on and the runner publishes to. */
    public static final String CHANNEL = "tern-baseline";

    private final EventLoopGroup group;
    private final Bootstrap bootstrap;
    private final InetSocketAddress redis;
    private final Channel[] channels;
    private final Semaphore pending;
    private final AtomicLong connectFailures = new AtomicLong();
    /** Replies that are neither a subscribe confirmation nor a message (e.g. an error): counted, never dropped silently. */
    private final AtomicLong unexpected = new AtomicLong();

    PubSubFleet(DeviceConfig config, LongConsumer onBroadcastComplete) {
        super(config, onBroadcastComplete);
        this.group = EventLoops.newGroup(config.threads(), "subscribers");
        this.pending = new Semaphore(config.maxPending());
        int colon = config.pubsubRedis().lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("pubsubRedis must be host:port, got " + config.pubsubRedis());
        }
        this.redis = new InetSocketAddress(config.pubsubRedis().substring(0, colon),
                Integer.parseInt(config.pubsubRedis().substring(colon + 1)));
        this.channels = new Channel[config.count()];
        this.bootstrap = new Bootstrap().group(group).channel(EventLoops.socketChannelFor(group))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(pipeline());
                    }
                });
    }

    /** A subscriber connection's handlers, in order. */
    ChannelHandler[] pipeline() {
        return new ChannelHandler[]{new RedisDecoder(), new RedisEncoder(), new Subscriber()};
    }

    @Override
    void awaitRoom() {
        try {
            if (!pending.tryAcquire(30, TimeUnit.SECONDS)) {
                System.err.println("connect window full for 30 s; starting more anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    void start(int i) {
        ChannelFuture f = bootstrap.connect(redis, new InetSocketAddress(addresses[i % addresses.length], 0));
        channels[i] = f.channel();
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connectFailures.incrementAndGet();
                pending.release();
            }
        });
    }

    private static ArrayRedisMessage command(String... words) {
        List<RedisMessage> parts = new ArrayList<>(words.length);
        for (String w : words) {
            parts.add(new FullBulkStringRedisMessage(Unpooled.copiedBuffer(w, StandardCharsets.UTF_8)));
        }
        return new ArrayRedisMessage(parts);
    }

    /**
     * One subscriber. Reads the decoder's parts as they come (array header, then a header and content per element),
     * not aggregated messages: a push is {@code ["message", channel, payload]}, and aggregating would build a
     * composite buffer and four message objects for each, which made this client the first limit of the baseline.
     */
    private final class Subscriber extends SimpleChannelInboundHandler<RedisMessage> {
        private boolean confirmed;
        /** Element of the current array being read (0 = the kind), -1 between arrays. */
        private int element = -1;
        private boolean isMessage;
        private boolean isSubscribe;
        /** The element being read (the kind or the payload), which may come in more than one part. */
        private final StringBuilder text = new StringBuilder();
        private String payload;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(command("SUBSCRIBE", CHANNEL));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
            long now = System.nanoTime();
            if (msg instanceof ArrayHeaderRedisMessage a) {
                element = a.length() == 3 ? 0 : -1;
                if (element < 0) {
                    unexpected.incrementAndGet();
                }
                isMessage = false;
                isSubscribe = false;
                payload = null;
                text.setLength(0);
            } else if (msg instanceof BulkStringRedisContent c) {
                if (element == 0 || element == 2) {
                    text.append(c.content().toString(StandardCharsets.UTF_8));
                }
                if (msg instanceof LastBulkStringRedisContent && element >= 0) {
                    if (element == 0) {
                        isMessage = text.toString().equals("message");
                        isSubscribe = text.toString().equals("subscribe");
                    } else if (element == 2) {
                        payload = text.toString();
                    }
                    text.setLength(0);
                    if (++element == 3) {
                        element = -1;
                        completed(now);
                    }
                }
            } else if (msg instanceof IntegerRedisMessage && element == 2) {
                // A subscribe confirmation ends in the subscription count.
                element = -1;
                completed(now);
            } else if (!(msg instanceof BulkStringHeaderRedisMessage)) {
                unexpected.incrementAndGet();
            }
        }

        /** The array read last was a whole push or confirmation. */
        private void completed(long now) {
            if (isMessage && payload != null) {
                received(payload, now);
            } else if (isSubscribe && !confirmed) {
                confirmed = true;
                connected.incrementAndGet();
                firstConnected();
                pending.release();
            } else {
                unexpected.incrementAndGet();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (confirmed) {
                connected.decrementAndGet();
                disconnects.incrementAndGet();
            } else {
                connectFailures.incrementAndGet();
                pending.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!closing) {
                System.err.println("subscriber: " + cause);
            }
            ctx.close();
        }
    }

    @Override
    int closeAll(Duration timeout) {
        closing = true;
        List<ChannelFuture> done = new ArrayList<>();
        for (Channel c : channels) {
            if (c != null) {
                done.add(c.close());
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        int closed = 0;
        for (ChannelFuture f : done) {
            if (f.awaitUninterruptibly(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())))) {
                closed++;
            }
        }
        return closed;
    }

    @Override
    void putOwnStats(ObjectNode n) {
        n.put("connectFailures", connectFailures.get());
        n.put("unexpectedReplies", unexpected.get());
    }
}
