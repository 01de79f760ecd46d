package io.tern.runtime.config;

/** A host and port to listen on; port 0 picks a free port (tests). */
public record HttpEndpoint(String host, int port) {
    public HttpEndpoint {
        ConfigException.require(host != null && !host.isBlank(), "host must be set");
        ConfigException.require(port >= 0 && port <= 65535, "port out of range: " + port);
    }
}
