package io.tern.store.diskkv;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.message.MessageStatus;
import io.tern.store.message.NewMessage;

import java.io.IOException;

/**
 * A single push accepted while Redis was away, as the disk KV keeps it: the aside record the logic node reconciles
 * into Redis afterwards, and the JSON of a disk-KV queue entry ({@link DiskKv#enqueue}) a broker delivers on
 * reconnect. Fields: {@code msgId} (decimal string), {@code appId}, {@code regId}, {@code kind} (PayloadKind code),
 * {@code payload} (the JSON text), {@code createdAt}, {@code expiresAt}, {@code callbackUrl?}, {@code callbackParam?},
 * {@code status} (sent: written to the device's broker; offline: in the disk-KV queue; accepted: recorded before
 * its PUSH, outcome unknown).
 */
public record AsideMessage(NewMessage message, MessageStatus status) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public AsideMessage withStatus(MessageStatus s) {
        return new AsideMessage(message, s);
    }

    public String toJson() {
        NewMessage m = message;
        ObjectNode o = JSON.createObjectNode();
        o.put("msgId", Long.toString(m.msgId()));
        o.put("appId", m.appId());
        o.put("regId", m.regId());
        o.put("kind", m.kind().code());
        o.put("payload", m.payload());
        o.put("createdAt", m.createdAtMillis());
        o.put("expiresAt", m.expiresAtMillis());
        if (m.callbackUrl() != null) {
            o.put("callbackUrl", m.callbackUrl());
        }
        if (m.callbackParam() != null) {
            o.put("callbackParam", m.callbackParam());
        }
        o.put("status", status.wireName());
        return o.toString();
    }

    /** @throws IllegalArgumentException when {@code json} is not an aside record */
    public static AsideMessage fromJson(String json) {
        try {
            JsonNode o = JSON.readTree(json);
            PayloadKind kind = PayloadKind.fromCode(o.path("kind").asInt());
            if (kind == null || !o.hasNonNull("msgId") || !o.hasNonNull("payload")) {
                throw new IllegalArgumentException("not an aside message: " + json);
            }
            NewMessage m = new NewMessage(Long.parseLong(o.get("msgId").asText()), o.path("appId").asText(),
                    o.path("regId").asText(), kind, o.get("payload").asText(), o.path("createdAt").asLong(),
                    o.path("expiresAt").asLong(), null, text(o, "callbackUrl"), text(o, "callbackParam"));
            return new AsideMessage(m, MessageStatus.fromWire(o.path("status").asText("accepted")));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not an aside message: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode o, String field) {
        return o.hasNonNull(field) ? o.get(field).asText() : null;
    }
}
