package io.tern.logic.auth;

import io.tern.runtime.config.ConfigException;

/** An app allowed to push: its public id and key, and the secret it signs auth requests with. */
public record AppCredentials(String appId, String appKey, String appSecret) {
    public AppCredentials {
        ConfigException.require(appId != null && appId.matches("[A-Za-z0-9._-]{1,64}"), "bad appId: " + appId);
        ConfigException.require(appKey != null && !appKey.isBlank(), "app " + appId + " needs a key");
        ConfigException.require(appSecret != null && appSecret.length() >= 8, "app " + appId + " needs a secret of >= 8 chars");
    }

    @Override
    public String toString() {
        return "AppCredentials[appId=" + appId + ", appKey=" + appKey + ", appSecret=****]";
    }
}
