package io.tern.runtime.http;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BearerGuardTest {
    private final BearerGuard guard = new BearerGuard("the-sre-token-0123456789");

    @Test
    void onlyTheWholeTokenAsABearerAuthorizes() {
        assertTrue(guard.authorizes("Bearer the-sre-token-0123456789"));
        assertTrue(guard.authorizes("bearer the-sre-token-0123456789 "), "scheme case-insensitive, blanks trimmed");
        assertFalse(guard.authorizes("Bearer the-sre-token-012345678"), "a prefix of the token");
        assertFalse(guard.authorizes("Bearer the-sre-token-01234567890"));
        assertFalse(guard.authorizes("Basic the-sre-token-0123456789"));
        assertFalse(guard.authorizes(null));
    }

    @Test
    void anEmptyTokenCannotGuardAnything() {
        assertThrows(IllegalArgumentException.class, () -> new BearerGuard(""));
    }

    private static HttpRequest request(String authorization) {
        HttpHeaders headers = new DefaultHttpHeaders();
        if (authorization != null) {
            headers.set("Authorization", authorization);
        }
        return new HttpRequest(HttpMethod.GET, "/v1/x", Map.of(), Map.of(), headers, new byte[0]);
    }

    @Test
    void withoutTheTokenTheHandlerIsNotCalledAndTheAnswerIs401() {
        Route.Handler guarded = guard.guard(req -> {
            throw new AssertionError("called without the token");
        });
        CompletionException e = assertThrows(CompletionException.class, guarded.handle(request("Bearer nope"))::join);
        assertEquals(401, ((ApiException) e.getCause()).status());
    }

    @Test
    void aHandlerThatThrowsAnswersAsAFailedFuture() {
        Route.Handler guarded = guard.guard(req -> {
            throw new IllegalStateException("boom");
        });
        CompletableFuture<HttpResponse> f = guarded.handle(request("Bearer the-sre-token-0123456789"));
        CompletionException e = assertThrows(CompletionException.class, f::join);
        assertEquals("boom", e.getCause().getMessage());
    }
}
