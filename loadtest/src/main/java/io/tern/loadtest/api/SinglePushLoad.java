package io.tern.loadtest.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import io.tern.client.net.EventLoops;
import io.tern.loadtest.process.ChildIo;
import io.tern.loadtest.stats.EpochClock;
import io.tern.loadtest.stats.Histogram;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The single-push API load generator, a process of its own so its CPU is counted apart from the
 * platform's: {@code java ... SinglePushLoad '<SinglePushConfig JSON>'}.
 *
 * <p>Open loop: push number i has the intended send time {@code start + i / rate}, which goes into
 * the payload as {@code {"t": epoch µs}}; when the generator falls behind, pushes wait for a free
 * connection and their latency includes that wait (no coordinated omission). Everything runs on
 * one event loop: a 1 ms tick creates the pushes that are due, each of {@code connections}
 * keep-alive HTTP/1.1 connections carries one request at a time.
 *
 * <p>Commands on stdin: {@code go [rate [seconds]]} starts a run (counters from zero; default rate
 * and seconds from the config); {@code stop} ends the run's sending now (a stream that lasts until the
 * runner's experiment is over), answers still drain. Lines out: {@code hello}, {@code ready} (connections open),
 * {@code stats} every second, {@code final} (with the run number) once the run's sending is over and
 * every answer is in (or the drain time passed). End of stdin halts the process.
 */
public final class SinglePushLoad {
    private static final String PATH = "/v1/push/single";

    private final SinglePushConfig config;
    private final EventLoopGroup group = EventLoops.newGroup(1, "api-load");
    private final EventLoop loop = group.next();
    private final SplittableRandom random = new SplittableRandom();
    private final int totalTargets;

    // Confined to the event loop.
    private final ArrayDeque<Req> backlog = new ArrayDeque<>();
    private final ArrayDeque<Conn> idle = new ArrayDeque<>();
    private final Histogram apiLatency = new Histogram();
    private final Histogram sendLag = new Histogram();
    private long startNanos;
    private long startedAtMicros;
    private long lastAnswerMicros;
    private long scheduled;
    private long sent;
    private long answered;
    private long accepted;
    private long statusSent;
    private long statusOffline;
    /** Accepted beyond the rate controller's permit: written to the Kafka buffer, delivered by the drain. */
    private long statusQueued;
    private long rejected429;
    private long otherErrors;
    private long ioErrors;
    private long dropped;
    private int open;
    private ScheduledFuture<?> tick;
    private boolean finished = true;
    private int run;
    private int rate;
    private int seconds;
    private long total;

    private record Req(String regId, long scheduledNanos) {
    }

    SinglePushLoad(SinglePushConfig config) {
        this.config = config;
        int sum = 0;
        for (SinglePushConfig.Target t : config.targets()) {
            sum += t.count();
        }
        this.totalTargets = sum;
    }

    public static void main(String[] args) throws Exception {
        SinglePushConfig config = ChildIo.JSON.readValue(args[0], SinglePushConfig.class);
        SinglePushLoad load = new SinglePushLoad(config);
        ChildIo.listen(cmd -> {
            String[] w = cmd.split(" ");
            if (w[0].equals("go")) {
                int rate = w.length > 1 ? Integer.parseInt(w[1]) : config.rate();
                int seconds = w.length > 2 ? Integer.parseInt(w[2]) : config.seconds();
                load.loop.execute(() -> load.go(rate, seconds));
            } else if (w[0].equals("stop")) {
                load.loop.execute(load::stop);
            } else {
                System.err.println("unknown command: " + cmd);
            }
        }, () -> Runtime.getRuntime().halt(0));
        ObjectNode hello = ChildIo.message("hello");
        hello.put("pid", ProcessHandle.current().pid());
        ChildIo.emit(hello);
        load.connect();
        load.loop.scheduleAtFixedRate(() -> ChildIo.emit(load.stats("stats")), 1, 1, TimeUnit.SECONDS);
        new CountDownLatch(1).await();
    }

    private void connect() {
        Bootstrap b = new Bootstrap().group(loop).channel(EventLoops.socketChannelFor(group))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024), new Conn());
                    }
                });
        for (int i = 0; i < config.connections(); i++) {
            connectOne(b);
        }
    }

    private void connectOne(Bootstrap b) {
        b.connect(config.host(), config.port()).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                ioErrors++;
                loop.schedule(() -> connectOne(b), 200, TimeUnit.MILLISECONDS);
                return;
            }
            Conn c = f.channel().pipeline().get(Conn.class);
            c.bootstrap = b;
            open++;
            release(c);
            if (open == config.connections() && startNanos == 0) {
                ObjectNode ready = ChildIo.message("ready");
                ready.put("connections", open);
                ChildIo.emit(ready);
            }
        });
    }

    /** Starts run number {@code run + 1}: counters and histograms start from zero. */
    private void go(int rate, int seconds) {
        if (!finished) {
            System.err.println("go ignored: a run is in progress");
            return;
        }
        run++;
        finished = false;
        this.rate = rate;
        this.seconds = seconds;
        this.total = (long) rate * seconds;
        scheduled = sent = answered = accepted = statusSent = statusOffline = statusQueued = rejected429 = otherErrors = ioErrors = dropped = 0;
        lastAnswerMicros = 0;
        apiLatency.reset();
        sendLag.reset();
        startNanos = System.nanoTime();
        startedAtMicros = EpochClock.toEpochMicros(startNanos);
        tick = loop.scheduleAtFixedRate(this::tick, 0, 1, TimeUnit.MILLISECONDS);
    }

    /** No push is scheduled after this one; the tick ends the run as if its time were up. */
    private void stop() {
        total = Math.min(total, scheduled);
    }

    private void tick() {
        long now = System.nanoTime();
        long due = Math.min(total, (long) ((now - startNanos) / 1e9 * rate) + 1);
        while (scheduled < due) {
            long at = startNanos + (long) (scheduled * 1e9 / rate);
            scheduled++;
            Req r = new Req(pickTarget(), at);
            Conn c = idle.poll();
            if (c != null) {
                c.send(r);
            } else if (backlog.size() < config.maxBacklog()) {
                backlog.add(r);
            } else {
                dropped++;
            }
        }
        if (scheduled >= total) {
            tick.cancel(false);
            loop.schedule(this::finishWhenDrained, 10, TimeUnit.MILLISECONDS);
        }
    }

    private void finishWhenDrained() {
        long drainDeadline = startNanos + TimeUnit.SECONDS.toNanos(seconds + config.drainSeconds());
        if (finished) {
            return;
        }
        if ((backlog.isEmpty() && inFlight() == 0) || System.nanoTime() > drainDeadline) {
            finished = true;
            ObjectNode n = stats("final");
            n.put("apiLatency", apiLatency.encode());
            n.put("sendLag", sendLag.encode());
            n.put("backlogLeft", backlog.size());
            n.put("inFlightLeft", inFlight());
            ChildIo.emit(n);
            return;
        }
        loop.schedule(this::finishWhenDrained, 20, TimeUnit.MILLISECONDS);
    }

    private int inFlight() {
        return open - idle.size();
    }

    private String pickTarget() {
        int r = random.nextInt(totalTargets);
        for (SinglePushConfig.Target t : config.targets()) {
            if (r < t.count()) {
                return t.prefix() + r;
            }
            r -= t.count();
        }
        throw new IllegalStateException("unreachable");
    }

    /** A connection is free: give it the oldest waiting push, or park it. */
    private void release(Conn c) {
        Req next = backlog.poll();
        if (next != null) {
            c.send(next);
        } else {
            idle.add(c);
        }
    }

    private ObjectNode stats(String type) {
        ObjectNode n = ChildIo.message(type);
        n.put("run", run);
        n.put("rate", rate);
        n.put("scheduled", scheduled);
        n.put("sent", sent);
        n.put("answered", answered);
        n.put("accepted", accepted);
        n.put("statusSent", statusSent);
        n.put("statusOffline", statusOffline);
        n.put("statusQueued", statusQueued);
        n.put("rejected429", rejected429);
        n.put("otherErrors", otherErrors);
        n.put("ioErrors", ioErrors);
        n.put("dropped", dropped);
        n.put("backlog", backlog.size());
        n.put("startedAt", startedAtMicros);
        n.put("lastAnswerAt", lastAnswerMicros);
        return n;
    }

    /** One keep-alive connection with at most one request in flight. */
    private final class Conn extends SimpleChannelInboundHandler<FullHttpResponse> {
        private Channel channel;
        private Bootstrap bootstrap;
        private Req current;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            ctx.fireChannelActive();
        }

        void send(Req r) {
            current = r;
            long t = EpochClock.toEpochMicros(r.scheduledNanos());
            String body = "{\"regId\":\"" + r.regId() + "\",\"data\":{\"t\":" + t + "},\"ttlSeconds\":"
                    + config.ttlSeconds() + "}";
            ByteBuf buf = ByteBufUtil.writeUtf8(channel.alloc(), body);
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, PATH, buf);
            req.headers().set(HttpHeaderNames.HOST, config.host() + ":" + config.port())
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes())
                    .set("authToken", config.authToken());
            sent++;
            sendLag.record((System.nanoTime() - r.scheduledNanos()) / 1000);
            channel.writeAndFlush(req, channel.voidPromise());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse resp) {
            long now = System.nanoTime();
            Req r = current;
            current = null;
            if (r == null) {
                return;
            }
            answered++;
            lastAnswerMicros = EpochClock.toEpochMicros(now);
            apiLatency.record((now - r.scheduledNanos()) / 1000);
            int status = resp.status().code();
            if (status == 200) {
                accepted++;
                String body = resp.content().toString(StandardCharsets.UTF_8);
                if (body.contains("\"status\":\"sent\"")) {
                    statusSent++;
                } else if (body.contains("\"status\":\"queued\"")) {
                    statusQueued++;
                } else {
                    statusOffline++;
                }
            } else if (status == 429) {
                rejected429++;
            } else {
                otherErrors++;
                if (otherErrors <= 5) {
                    System.err.println("HTTP " + status + ": " + resp.content().toString(StandardCharsets.UTF_8));
                }
            }
            release(this);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            open--;
            idle.remove(this);
            if (current != null) {
                ioErrors++;
                current = null;
            }
            if (bootstrap != null && !finished) {
                Bootstrap b = bootstrap;
                loop.schedule(() -> connectOne(b), 100, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            System.err.println("connection error: " + cause);
            ctx.close();
        }
    }
}
