package io.tern.logic.http;

import io.tern.devstack.SharedInfra;
import io.tern.logic.LogicNode;
import io.tern.logic.auth.AppAuthenticator;
import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code POST /v1/auth} on a real logic node and a real Redis: a signed request counts once. */
class AuthReplayIT {
    private static final String APP = "replay-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String KEY = "replay-key";
    private static final String SECRET = "replay-secret";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static LogicNode node;

    @BeforeAll
    static void start() {
        node = LogicNode.start(LogicConfig.from(Settings.of(Map.of(
                "logic.port", "0",
                "logic.dev-mode", "true",
                "logic.redis-uri", SharedInfra.redis().uri(),
                "logic.kafka-bootstrap", SharedInfra.kafka().bootstrapServers(),
                "logic.apps." + APP + ".key", KEY,
                "logic.apps." + APP + ".secret", SECRET))));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static HttpResponse<String> auth(long ts, String sign) throws Exception {
        String body = "{\"appId\":\"" + APP + "\",\"appKey\":\"" + KEY + "\",\"timestamp\":" + ts + ",\"sign\":\"" + sign + "\"}";
        URI uri = URI.create("http://127.0.0.1:" + node.address().getPort() + "/v1/auth");
        return HTTP.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aReplayedSignedRequestIsRefusedAndAFreshSignaturePasses() throws Exception {
        long ts = System.currentTimeMillis();
        String sign = AppAuthenticator.sign(APP, KEY, ts, SECRET);

        HttpResponse<String> first = auth(ts, sign);
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(first.body().contains("\"authToken\""), first.body());

        HttpResponse<String> replay = auth(ts, sign);
        assertEquals(401, replay.statusCode(), replay.body());
        assertTrue(replay.body().contains("\"code\":\"unauthorized\""), replay.body());

        // Hex is read case-insensitively: the same signature in upper case is still the same signature.
        HttpResponse<String> upper = auth(ts, sign.toUpperCase(Locale.ROOT));
        assertEquals(401, upper.statusCode(), upper.body());

        long fresh = ts + 1;
        HttpResponse<String> again = auth(fresh, AppAuthenticator.sign(APP, KEY, fresh, SECRET));
        assertEquals(200, again.statusCode(), again.body());
    }

    @Test
    void aBadSignatureLeavesNoMarkSoTheGoodOneStillPasses() throws Exception {
        long ts = System.currentTimeMillis() - 100_000;
        String good = AppAuthenticator.sign(APP, KEY, ts, SECRET);
        assertEquals(401, auth(ts, AppAuthenticator.sign(APP, KEY, ts, "wrong-secret")).statusCode());
        assertEquals(200, auth(ts, good).statusCode());
    }
}
