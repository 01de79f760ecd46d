package io.tern.loadtest.device;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class HomeRegionHttpClientTest {
    private final HomeRegionHttpClient client = new HomeRegionHttpClient(HttpClient.newHttpClient(), "north");

    @Test
    void dispatchRequestsNameTheHomeRegionAndKeepEverythingElse() {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:1/v1/dispatch?appId=a&regId=d1-0&ts=1&sign=x"))
                .timeout(Duration.ofSeconds(3)).header("Accept", "application/json").GET().build();
        HttpRequest out = client.withRegion(r);
        assertEquals("http://127.0.0.1:1/v1/dispatch?appId=a&regId=d1-0&ts=1&sign=x&region=north", out.uri().toString());
        assertEquals("application/json", out.headers().firstValue("Accept").orElseThrow());
        assertEquals(Duration.ofSeconds(3), out.timeout().orElseThrow());
    }

    @Test
    void otherRequestsAndRequestsThatNameARegionPassUnchanged() {
        HttpRequest register = HttpRequest.newBuilder(URI.create("http://127.0.0.1:1/v1/register")).build();
        assertSame(register, client.withRegion(register));
        HttpRequest named = HttpRequest.newBuilder(URI.create("http://127.0.0.1:1/v1/dispatch?appId=a&region=south")).build();
        assertSame(named, client.withRegion(named));
    }
}
