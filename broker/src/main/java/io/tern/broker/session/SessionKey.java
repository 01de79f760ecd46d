package io.tern.broker.session;

/** A device as the connection map knows it: regIds are unique per app only. */
public record SessionKey(String appId, String regId) {
}
