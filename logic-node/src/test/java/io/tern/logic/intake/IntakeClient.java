package io.tern.logic.intake;

import io.tern.logic.LogicNode;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.http.PushApi;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** The app-server side of the intake tests: signed login, then JSON calls with the auth token. */
final class IntakeClient {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final AtomicLong TS = new AtomicLong(System.currentTimeMillis());
    private final LogicNode node;
    private String token;

    IntakeClient(LogicNode node) {
        this.node = node;
    }

    IntakeClient login(String app, String key, String secret) throws Exception {
        long ts = TS.incrementAndGet();
        HttpResponse<String> r = send("POST", "/v1/auth", "{\"appId\":\"" + app + "\",\"appKey\":\"" + key
                + "\",\"timestamp\":" + ts + ",\"sign\":\"" + AppAuthenticator.sign(app, key, ts, secret) + "\"}");
        if (r.statusCode() != 200) {
            throw new IllegalStateException("login: " + r.statusCode() + " " + r.body());
        }
        token = field(r.body(), "authToken");
        return this;
    }

    HttpResponse<String> send(String method, String path, String body) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + node.address().getPort() + path);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header(PushApi.AUTH_HEADER, token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> pushSingle(String regId, String requestId) throws Exception {
        return send("POST", "/v1/push/single", "{\"regId\":\"" + regId + "\",\"data\":{\"n\":1}"
                + (requestId == null ? "" : ",\"requestId\":\"" + requestId + "\"") + "}");
    }

    /** A string field of a flat JSON answer. */
    static String field(String json, String name) {
        String v = json.replaceAll(".*\"" + name + "\":\"([^\"]*)\".*", "$1");
        if (v.equals(json)) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return v;
    }
}
