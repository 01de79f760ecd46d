package io.tern.scheduler.console;

import io.netty.handler.codec.http.HttpMethod;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The SRE console: a page and its script and style, read once from the classpath and served without a token
 * ({@code GET /console}, {@code GET /console/{file}}). They hold nothing secret: the page asks the SRE for the
 * token and sends it with every admin call it makes ({@code /v1/...} on this same server), keeping it in the
 * tab's session storage only. The policy forbids other origins, inline script and framing (the page has buttons
 * that move regions).
 */
public final class ConsolePages {
    public static final String PAGE = "/console";
    public static final String FILE = "/console/{file}";
    private static final Map<String, String> FILES = Map.of(
            "console.js", "text/javascript; charset=utf-8",
            "console.css", "text/css; charset=utf-8");
    private static final Map<String, String> HEADERS = Map.of(
            "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            "X-Content-Type-Options", "nosniff",
            "Referrer-Policy", "no-referrer",
            "Cache-Control", "no-cache");

    private final byte[] page;
    private final Map<String, byte[]> files;

    private ConsolePages(byte[] page, Map<String, byte[]> files) {
        this.page = page;
        this.files = files;
    }

    /** Reads the console from the classpath; fails when it is missing (a broken build, not a runtime state). */
    public static ConsolePages load() {
        return new ConsolePages(read("index.html"), Map.of("console.js", read("console.js"),
                "console.css", read("console.css")));
    }

    public HttpServer.Builder addRoutes(HttpServer.Builder http) {
        return http
                .route(HttpMethod.GET, PAGE, req -> CompletableFuture.completedFuture(
                        new HttpResponse(200, page, "text/html; charset=utf-8", HEADERS)))
                .route(HttpMethod.GET, FILE, req -> {
                    String name = req.pathParam("file");
                    byte[] body = files.get(name);
                    return CompletableFuture.completedFuture(body == null
                            ? HttpServer.error(404, "not_found", "no console file " + name, null)
                            : new HttpResponse(200, body, FILES.get(name), HEADERS));
                });
    }

    private static byte[] read(String name) {
        try (InputStream in = ConsolePages.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("console resource " + name + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read console resource " + name, e);
        }
    }
}
