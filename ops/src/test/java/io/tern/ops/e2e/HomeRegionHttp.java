package io.tern.ops.e2e;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The SDK's HTTP client for devices whose home is one region: every dispatch request
 * ({@code GET /v1/dispatch?..}) gets {@code &region=<home>}, the dispatcher's home-region parameter, as a device
 * of that region asks; everything else passes through unchanged. The SDK has no home-region option of its own
 * (issue 10), so a test names the region here. The signature covers appId, regId and ts only, so the added
 * parameter keeps it valid.
 */
final class HomeRegionHttp extends HttpClient {
    private static final String DISPATCH = "/v1/dispatch";
    private final HttpClient http;
    private final String region;

    HomeRegionHttp(HttpClient http, String region) {
        this.http = http;
        this.region = region;
    }

    private HttpRequest withRegion(HttpRequest r) {
        URI u = r.uri();
        if (!"GET".equals(r.method()) || !DISPATCH.equals(u.getPath()) || u.getRawQuery() == null
                || u.getRawQuery().contains("region=")) {
            return r;
        }
        URI routed = URI.create(u.toString() + "&region=" + region);
        HttpRequest.Builder b = HttpRequest.newBuilder(routed).GET();
        r.timeout().ifPresent(b::timeout);
        r.version().ifPresent(b::version);
        r.headers().map().forEach((k, vs) -> vs.forEach(v -> b.header(k, v)));
        return b.build();
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        return http.send(withRegion(request), handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        return http.sendAsync(withRegion(request), handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
                                                            HttpResponse.PushPromiseHandler<T> push) {
        return http.sendAsync(withRegion(request), handler, push);
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return http.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return http.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return http.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return http.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return http.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return http.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return http.authenticator();
    }

    @Override
    public Version version() {
        return http.version();
    }

    @Override
    public Optional<Executor> executor() {
        return http.executor();
    }
}
