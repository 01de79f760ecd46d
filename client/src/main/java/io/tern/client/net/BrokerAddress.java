package io.tern.client.net;

import io.tern.protocol.websocket.WebSocketFrameAdapters;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * One broker address from a dispatch answer or a REDIRECT: {@code host:port} or
 * {@code [v6]:port} for TCP, {@code ws://host:port/v1/ws} (or {@code wss://}) for WebSocket.
 * A plain {@code host:port} given to a WebSocket client becomes {@code ws://host:port/v1/ws};
 * a ws URI given to a TCP client contributes its host and port.
 *
 * @param raw   the address as listed; reported to the app as the connected broker
 * @param wsUri the WebSocket URI, null for TCP
 */
public record BrokerAddress(String raw, String host, int port, URI wsUri) {

    public boolean webSocket() {
        return wsUri != null;
    }

    public boolean tls() {
        return wsUri != null && "wss".equalsIgnoreCase(wsUri.getScheme());
    }

    /** @throws IllegalArgumentException when the address cannot be parsed */
    public static BrokerAddress parse(String raw, boolean webSocket) {
        if (raw == null || raw.isBlank()) {
            throw new IllegalArgumentException("empty broker address");
        }
        String s = raw.trim();
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.startsWith("ws://") || lower.startsWith("wss://")) {
            URI uri = toUri(s);
            String host = stripBrackets(uri.getHost());
            if (host == null || host.isEmpty()) {
                throw new IllegalArgumentException("no host in " + raw);
            }
            boolean tls = lower.startsWith("wss://");
            int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
            checkPort(port, raw);
            return new BrokerAddress(s, host, port, webSocket ? uri : null);
        }
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("broker address is not host:port: " + raw);
        }
        String host = stripBrackets(s.substring(0, colon));
        if (host.contains(":") && !s.startsWith("[")) {
            throw new IllegalArgumentException("IPv6 broker address needs brackets: " + raw);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in " + raw);
        }
        checkPort(port, raw);
        URI uri = webSocket ? toUri("ws://" + s + WebSocketFrameAdapters.PATH) : null;
        return new BrokerAddress(s, host, port, uri);
    }

    private static URI toUri(String s) {
        try {
            return new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("bad WebSocket address " + s + ": " + e.getMessage());
        }
    }

    private static void checkPort(int port, String raw) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range in " + raw);
        }
    }

    private static String stripBrackets(String host) {
        if (host != null && host.length() > 1 && host.startsWith("[") && host.endsWith("]")) {
            return host.substring(1, host.length() - 1);
        }
        return host;
    }
}
