package io.tern.runtime.tls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of a TLS-capable listener's pipeline. With plain connections refused it is
 * an {@link io.netty.handler.ssl.SslHandler}: a client that does not start a TLS handshake is
 * closed at its first bytes. With plain ones allowed it is an {@link OptionalSslHandler}, which
 * looks at the first bytes and replaces itself with an SslHandler or with nothing, so a plain
 * connection keeps no TLS state.
 */
public final class ServerTls {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

    private final SslContext context;
    private final boolean plain;

    private ServerTls(SslContext context, boolean plain) {
        this.context = context;
        this.plain = plain;
    }

    /**
     * @param listener names the listener in the start-up log line
     * @return null when TLS is off
     */
    public static ServerTls of(TlsConfig config, boolean requireClientCertificate, String listener) {
        return of(config, requireClientCertificate, config.plain(), listener);
    }

    /**
     * For a listener whose server speaks first (the broker's internal port sends its link challenge at
     * accept): TLS and plain cannot share its port, since the choice waits for the client's first bytes,
     * so with TLS on it is TLS only whatever {@code plain} says.
     */
    public static ServerTls serverSpeaksFirst(TlsConfig config, boolean requireClientCertificate, String listener) {
        return of(config, requireClientCertificate, false, listener);
    }

    private static ServerTls of(TlsConfig config, boolean requireClientCertificate, boolean plain, String listener) {
        if (!config.enabled()) {
            return null;
        }
        ServerTls tls = new ServerTls(TlsContexts.server(config, requireClientCertificate), plain);
        log.info("[{}] TLS on with SslProvider {}{}; plain connections {}", listener, TlsContexts.describeProvider(),
                requireClientCertificate ? ", client certificates required" : "", plain ? "accepted" : "refused");
        return tls;
    }

    public ChannelHandler newHandler(Channel ch) {
        return plain ? new OptionalSslHandler(context) : context.newHandler(ch.alloc());
    }
}
