package io.tern.runtime.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.tern.runtime.config.HttpEndpoint;
import io.tern.runtime.net.Transports;
import io.tern.runtime.tls.ServerTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A small JSON-over-HTTP server on Netty shared by every role: routes with path parameters,
 * async handlers, errors as {@code {"code","message","field"?}} with a real status, bodies over
 * the limit answered 413, and a latency histogram per route. Hostile clients are bounded by
 * {@link HttpLimits} (a request deadline that bytes do not reset, keep-alive timeout, caps on
 * open and idle connections), enforced by a {@link ConnectionGuard} first in each pipeline.
 */
public final class HttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpServer.class);
    public static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final List<Route> routes;
    private final int maxBodyBytes;
    private final MeterRegistry registry;
    // Bounded: routes × methods × the statuses we answer.
    private final Map<TimerKey, Timer> timers = new ConcurrentHashMap<>();
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final HttpLimits limits;
    private final ConnectionGuard.Connections connections;
    private final ServerTls tls;
    private final Predicate<Throwable> storeUnavailable;
    private final Function<Throwable, ApiException> domainErrors;
    private Channel channel;

    private HttpServer(String name, List<Route> routes, int maxBodyBytes, MeterRegistry registry,
                       EventLoopGroup group, HttpLimits limits, ServerTls tls, Predicate<Throwable> storeUnavailable,
                       Function<Throwable, ApiException> domainErrors) {
        this.name = name;
        this.domainErrors = domainErrors;
        this.storeUnavailable = storeUnavailable;
        this.limits = limits;
        this.connections = new ConnectionGuard.Connections(limits);
        this.routes = List.copyOf(routes);
        this.maxBodyBytes = maxBodyBytes;
        this.registry = registry;
        this.ownsGroup = group == null;
        this.tls = tls;
        this.group = group != null ? group : Transports.group(Math.max(1, Runtime.getRuntime().availableProcessors()), name + "-http");
    }

    public static Builder builder(String name, MeterRegistry registry) {
        return new Builder(name, registry);
    }

    /** The aggregator admits the largest body any route takes; each route then checks its own limit. */
    private int largestBody() {
        return Math.max(maxBodyBytes, routes.stream().mapToInt(Route::maxBodyBytes).max().orElse(0));
    }

    /** Open connections, and those of them idle between requests (for metrics and tests). */
    public int openConnections() {
        return connections.open();
    }

    public int idleConnections() {
        return connections.idle();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    private HttpServer bind(HttpEndpoint endpoint) {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(Transports.serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ConnectionGuard guard = new ConnectionGuard(limits, connections);
                        ch.pipeline()
                                .addLast("guard", guard)
                                .addLast(new HttpServerCodec(4096, 8192, 8192))
                                .addLast(new JsonTooLargeAggregator(largestBody()))
                                .addLast("request-end", guard.requestEnd())
                                .addLast(new Dispatch());
                        if (tls != null) {
                            // In front of the guard: its 408 and 503 responses go out encrypted too.
                            ch.pipeline().addFirst("tls", tls.newHandler(ch));
                        }
                    }
                });
        channel = b.bind(endpoint.host(), endpoint.port()).syncUninterruptibly().channel();
        log.info("[{}] http listening on {}", name, channel.localAddress());
        return this;
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            long start = System.nanoTime();
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (!req.decoderResult().isSuccess()) {
                write(ctx, error(400, "bad_request", "malformed HTTP request", null), keepAlive, "none", start, req);
                return;
            }
            QueryStringDecoder qs = new QueryStringDecoder(req.uri());
            String path = qs.path();
            String[] segments = path.split("/", -1);
            Route matched = null;
            Map<String, String> params = null;
            boolean pathKnown = false;
            for (Route r : routes) {
                Map<String, String> p = r.match(segments);
                if (p != null) {
                    pathKnown = true;
                    if (r.method().equals(req.method())) {
                        matched = r;
                        params = p;
                        break;
                    }
                }
            }
            if (matched == null) {
                HttpResponse resp = pathKnown
                        ? error(405, "method_not_allowed", req.method() + " not allowed on " + path, null)
                        : error(404, "not_found", "no endpoint " + path, null);
                write(ctx, resp, keepAlive, "none", start, req);
                return;
            }
            int limit = matched.maxBodyBytes() > 0 ? matched.maxBodyBytes() : maxBodyBytes;
            if (req.content().readableBytes() > limit) {
                write(ctx, tooLarge(limit), keepAlive, matched.template(), start, req);
                return;
            }
            byte[] body = ByteBufUtil.getBytes(req.content());
            // Headers are plain objects (not reference counted): they outlive the released request.
            HttpRequest request = new HttpRequest(req.method(), path, params, qs.parameters(), req.headers(), body);
            String template = matched.template();
            CompletableFuture<HttpResponse> f;
            try {
                f = matched.handler().handle(request);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((resp, err) -> {
                HttpResponse out = err == null ? resp : toError(err);
                write(ctx, out, keepAlive, template, start, req);
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("[{}] http connection error: {}", name, cause.toString());
            ctx.close();
        }
    }

    private HttpResponse toError(Throwable err) {
        Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (!(e instanceof ApiException)) {
            ApiException mapped = domainErrors.apply(e);
            if (mapped != null) {
                e = mapped;
            }
        }
        if (!(e instanceof ApiException) && storeUnavailable.test(e)) {
            log.debug("[{}] store unavailable: {}", name, e.toString());
            e = ApiException.storeUnavailable();
        }
        if (e instanceof ApiException api) {
            HttpResponse r = error(api.status(), api.code(), api.getMessage(), api.field());
            // Overload and outage answers say when to come back.
            if (api.status() == 429 || api.status() == 503) {
                long retryAfter = api.retryAfterSeconds() > 0 ? api.retryAfterSeconds() : 1;
                return new HttpResponse(api.status(), r.body(), r.contentType(),
                        Map.of("Retry-After", Long.toString(retryAfter)));
            }
            return r;
        }
        log.warn("[{}] request failed", name, e);
        return error(500, "internal_error", "internal error", null);
    }

    private static HttpResponse tooLarge(int max) {
        return error(413, "payload_too_large", "request body exceeds " + max + " bytes", "body");
    }

    public static HttpResponse error(int status, String code, String message, String field) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", code);
        body.put("message", message);
        if (field != null) {
            body.put("field", field);
        }
        return HttpResponse.json(status, body);
    }

    private void write(ChannelHandlerContext ctx, HttpResponse resp, boolean keepAlive, String template,
                       long startNanos, FullHttpRequest req) {
        byte[] bytes;
        try {
            bytes = resp.body() instanceof String s ? s.getBytes(StandardCharsets.UTF_8)
                    : resp.body() instanceof byte[] b ? b : JSON.writeValueAsBytes(resp.body());
        } catch (Exception e) {
            log.warn("[{}] cannot serialise response", name, e);
            bytes = "{\"code\":\"internal_error\",\"message\":\"internal error\"}".getBytes(StandardCharsets.UTF_8);
            resp = HttpResponse.json(500, null);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(resp.status()), Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, resp.contentType());
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        resp.headers().forEach((k, v) -> r.headers().set(k, v));
        timer(req.method(), template, resp.status()).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
        if (keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(r);
        } else {
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private record TimerKey(HttpMethod method, String template, int status) {
    }

    private static final Set<HttpMethod> KNOWN_METHODS = Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT,
            HttpMethod.DELETE, HttpMethod.PATCH, HttpMethod.HEAD, HttpMethod.OPTIONS);
    private static final HttpMethod OTHER_METHOD = new HttpMethod("OTHER");

    /** Looked up in a map of our own: building and registering the meter id per request cost more than the request. */
    private Timer timer(HttpMethod method, String template, int status) {
        // Any method name decodes: unknown ones share one timer so clients cannot grow the map.
        TimerKey key = new TimerKey(KNOWN_METHODS.contains(method) ? method : OTHER_METHOD, template, status);
        Timer t = timers.get(key);
        if (t == null) {
            t = timers.computeIfAbsent(key, k -> Timer.builder("http.server.requests")
                    .description("API latency from request decoded to response written")
                    .tags("role", name, "method", k.method().name(), "route", k.template(), "status", Integer.toString(k.status()))
                    .publishPercentileHistogram()
                    .register(registry));
        }
        return t;
    }

    /** Answers an oversized body with our JSON error instead of Netty's bare 413. */
    private static final class JsonTooLargeAggregator extends HttpObjectAggregator {
        private final int max;

        JsonTooLargeAggregator(int max) {
            super(max);
            this.max = max;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            byte[] body;
            try {
                body = JSON.writeValueAsBytes(tooLarge(max).body());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            ByteBuf content = Unpooled.wrappedBuffer(body);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, content);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            // The rest of the body is still on the wire: close rather than try to skip it.
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    public static final class Builder {
        private final String name;
        private final MeterRegistry registry;
        private final List<Route> routes = new ArrayList<>();
        private int maxBodyBytes = 64 * 1024;
        private EventLoopGroup group;
        private HttpLimits limits = HttpLimits.DEFAULTS;
        private ServerTls tls;
        private Predicate<Throwable> storeUnavailable = e -> false;
        private Function<Throwable, ApiException> domainErrors = e -> null;

        private Builder(String name, MeterRegistry registry) {
            this.name = name;
            this.registry = registry;
        }

        public Builder route(HttpMethod method, String template, Route.Handler handler) {
            return route(method, template, 0, handler);
        }

        /** A route whose bodies may be larger (or must be smaller) than the server's default limit. */
        public Builder route(HttpMethod method, String template, int maxBodyBytes,
                             Route.Handler handler) {
            routes.add(new Route(method, template, maxBodyBytes, handler));
            return this;
        }

        public Builder maxBodyBytes(int max) {
            this.maxBodyBytes = max;
            return this;
        }

        /** Request deadline, keep-alive timeout and connection caps; {@link HttpLimits#DEFAULTS} unless set. */
        public Builder limits(HttpLimits limits) {
            this.limits = java.util.Objects.requireNonNull(limits, "limits");
            return this;
        }

        /** Share an event loop group (e.g. the broker's) instead of creating one. */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        /** Serve HTTPS (and, if it accepts plain, HTTP on the same port); null = plain HTTP only. */
        public Builder tls(ServerTls tls) {
            this.tls = tls;
            return this;
        }

        /**
         * Which handler failures mean the data store is unreachable: they are answered 503
         * {@code store_unavailable} with {@code Retry-After} instead of 500 (e.g. StoreFailures::isUnavailable).
         */
        public Builder storeUnavailableWhen(Predicate<Throwable> test) {
            this.storeUnavailable = java.util.Objects.requireNonNull(test, "test");
            return this;
        }

        /** How a role's domain errors become API errors (null: not one of them); the HTTP layer owns the mapping. */
        public Builder domainErrors(Function<Throwable, ApiException> mapping) {
            this.domainErrors = java.util.Objects.requireNonNull(mapping, "mapping");
            return this;
        }

        public HttpServer start(HttpEndpoint endpoint) {
            return new HttpServer(name, routes, maxBodyBytes, registry, group, limits, tls, storeUnavailable, domainErrors)
                    .bind(endpoint);
        }
    }
}
