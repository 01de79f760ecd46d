package io.tern.runtime.http;

import io.netty.handler.codec.http.HttpMethod;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One endpoint: method, path template with {@code {param}} segments, its async handler, and its
 * own request-body limit ({@code maxBodyBytes} 0 = the server's default). The template is split
 * once here, not on every request.
 */
public final class Route {
    private final HttpMethod method;
    private final String template;
    private final int maxBodyBytes;
    private final Handler handler;
    private final String[] segments;

    /** Handlers answer through the future and never block: they run on the event loop. */
    @FunctionalInterface
    public interface Handler {
        CompletableFuture<HttpResponse> handle(HttpRequest request);
    }

    public Route(HttpMethod method, String template, int maxBodyBytes, Handler handler) {
        this.method = method;
        this.template = template;
        this.maxBodyBytes = maxBodyBytes;
        this.handler = handler;
        this.segments = template.split("/", -1);
    }

    public HttpMethod method() {
        return method;
    }

    public String template() {
        return template;
    }

    public int maxBodyBytes() {
        return maxBodyBytes;
    }

    public Handler handler() {
        return handler;
    }

    /** @return path parameters when the path, split on '/', matches; else null */
    Map<String, String> match(String[] path) {
        String[] t = segments;
        if (t.length != path.length) {
            return null;
        }
        Map<String, String> params = Map.of();
        for (int i = 0; i < t.length; i++) {
            if (t[i].startsWith("{") && t[i].endsWith("}")) {
                if (path[i].isEmpty()) {
                    return null;
                }
                if (params.isEmpty()) {
                    params = new HashMap<>(2);
                }
                params.put(t[i].substring(1, t[i].length() - 1), path[i]);
            } else if (!t[i].equals(path[i])) {
                return null;
            }
        }
        return params;
    }
}
