package io.tern.runtime.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;

import java.util.List;
import java.util.Map;

/** An aggregated request as handlers see it; the body is copied out of Netty's buffers. */
public record HttpRequest(HttpMethod method, String path, Map<String, String> pathParams,
                          Map<String, List<String>> query, HttpHeaders headers, byte[] body) {

    public String pathParam(String name) {
        return pathParams.get(name);
    }

    /** First value of a query parameter, or null. */
    public String queryParam(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    public String header(String name) {
        return headers.get(name);
    }
}
