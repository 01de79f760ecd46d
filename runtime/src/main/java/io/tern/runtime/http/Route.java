package io.tern.runtime.http;

import io.netty.handler.codec.http.HttpMethod;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One endpoint: method, path template with {@code {param}} segments, its async handler, and its
 * own request-body limit ({@code maxBodyBytes} 0 = the server's default).
 */
public record Route(HttpMethod method, String template, int maxBodyBytes, Handler handler) {

    /** Handlers answer through the future and never block: they run on the event loop. */
    @FunctionalInterface
    public interface Handler {
        CompletableFuture<HttpResponse> handle(HttpRequest request);
    }

    /** @return path parameters when {@code path} matches, else null */
    Map<String, String> match(String path) {
        String[] t = template.split("/", -1);
        String[] p = path.split("/", -1);
        if (t.length != p.length) {
            return null;
        }
        Map<String, String> params = new HashMap<>(2);
        for (int i = 0; i < t.length; i++) {
            if (t[i].startsWith("{") && t[i].endsWith("}")) {
                if (p[i].isEmpty()) {
                    return null;
                }
                params.put(t[i].substring(1, t[i].length() - 1), p[i]);
            } else if (!t[i].equals(p[i])) {
                return null;
            }
        }
        return params;
    }
}
