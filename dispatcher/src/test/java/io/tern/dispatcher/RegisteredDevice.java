package io.tern.dispatcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.protocol.token.DispatchSignature;
import io.tern.runtime.http.HttpServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A device registered through {@code POST /v1/register}, and the signed dispatch queries it sends. */
record RegisteredDevice(String appId, String regId, String deviceSecret) {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static HttpResponse<String> postRegister(Dispatcher d, String body) throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + d.address().getPort() + "/v1/register");
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static RegisteredDevice register(Dispatcher d, String appId, String clientKey) {
        try {
            HttpResponse<String> r = postRegister(d, "{\"appId\":\"" + appId + "\",\"clientKey\":\"" + clientKey + "\"}");
            if (r.statusCode() != 200) {
                throw new IllegalStateException("register answered " + r.statusCode() + ": " + r.body());
            }
            JsonNode body = HttpServer.JSON.readTree(r.body());
            return new RegisteredDevice(appId, body.get("regId").asText(), body.get("deviceSecret").asText());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code appId=..&regId=..&ts=..&sign=..} signed now. */
    String query() {
        return query(System.currentTimeMillis());
    }

    String query(long ts) {
        return "appId=" + appId + "&regId=" + regId + "&ts=" + ts + "&sign="
                + DispatchSignature.sign(deviceSecret, appId, regId, ts);
    }
}
