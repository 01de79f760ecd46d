package io.tern.loadtest.device;

import io.tern.client.dispatch.DispatchClient;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The simulated devices' HTTP client with a home region: every dispatch request gets
 * {@code &region=<home>}, the parameter a real device in that region sends (the dispatcher's
 * {@code region} query parameter). The SDK takes any {@link HttpClient}; this one delegates everything
 * and only rewrites dispatch URIs, so devices of one process share one client and one region.
 */
final class HomeRegionHttpClient extends HttpClient {
    private final HttpClient delegate;
    private final String param;

    HomeRegionHttpClient(HttpClient delegate, String region) {
        this.delegate = delegate;
        this.param = "&region=" + URLEncoder.encode(region, StandardCharsets.UTF_8);
    }

    /** {@code request} with the region appended when it is a dispatch request; else unchanged. */
    HttpRequest withRegion(HttpRequest request) {
        URI uri = request.uri();
        if (!uri.getPath().endsWith(DispatchClient.PATH) || uri.getRawQuery() == null
                || uri.getRawQuery().contains("region=")) {
            return request;
        }
        return HttpRequest.newBuilder(request, (name, value) -> true).uri(URI.create(uri + param)).build();
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        return delegate.send(withRegion(request), handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        return delegate.sendAsync(withRegion(request), handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
                                                            HttpResponse.PushPromiseHandler<T> push) {
        return delegate.sendAsync(withRegion(request), handler, push);
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return delegate.authenticator();
    }

    @Override
    public Version version() {
        return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
        return delegate.executor();
    }
}
