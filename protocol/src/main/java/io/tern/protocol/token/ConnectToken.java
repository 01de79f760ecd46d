package io.tern.protocol.token;

import java.util.Objects;

/** The claims of a device connect token: who may connect, for which home region, until when. */
public record ConnectToken(String appId, String regId, String region, long expiresAtMillis) {
    public ConnectToken {
        Objects.requireNonNull(appId, "appId");
        Objects.requireNonNull(regId, "regId");
        Objects.requireNonNull(region, "region");
    }
}
