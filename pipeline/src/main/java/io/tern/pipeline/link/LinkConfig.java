package io.tern.pipeline.link;

import io.tern.protocol.link.LinkProof;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * How this logic node authenticates its links to brokers' internal ports.
 *
 * @param clusterSecret shared with every broker, at least 16 bytes ({@code logic.cluster-secret}); default
 *                      {@link LinkProof#DEV_CLUSTER_SECRET}, for development only
 * @param authTimeout   a link must be authenticated within this after connecting ({@code logic.link-auth-timeout});
 *                      default 5s
 */
public record LinkConfig(String clusterSecret, Duration authTimeout) {
    public static final Duration DEFAULT_AUTH_TIMEOUT = Duration.ofSeconds(5);

    public LinkConfig {
        ConfigException.require(clusterSecret != null
                        && clusterSecret.getBytes(StandardCharsets.UTF_8).length >= LinkProof.MIN_SECRET_BYTES,
                "logic.cluster-secret must be at least " + LinkProof.MIN_SECRET_BYTES + " bytes");
        ConfigException.require(authTimeout != null && authTimeout.toMillis() >= 50 && authTimeout.toMinutes() <= 1,
                "logic.link-auth-timeout must be between 50ms and 1m, got " + authTimeout);
    }

    public static LinkConfig from(Settings s) {
        return from(s, "logic");
    }

    /** Keys {@code <role>.cluster-secret} and {@code <role>.link-auth-timeout}: every role that links to brokers. */
    public static LinkConfig from(Settings s, String role) {
        return new LinkConfig(s.string(role + ".cluster-secret", LinkProof.DEV_CLUSTER_SECRET),
                s.duration(role + ".link-auth-timeout", DEFAULT_AUTH_TIMEOUT));
    }

    public boolean usesDevSecret() {
        return LinkProof.DEV_CLUSTER_SECRET.equals(clusterSecret);
    }

    @Override
    public String toString() {
        return "LinkConfig[clusterSecret=****, authTimeout=" + authTimeout + ']';
    }
}
