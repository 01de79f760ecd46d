package io.tern.store.diskkv;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.protocol.frame.PayloadKind;
import io.tern.store.message.NewMessage;

/**
 * A single push accepted during a Redis outage for a device that was offline, as the logic node writes it to the
 * disk KV's queue ({@link DiskKv#enqueue}) and the device's broker reads it on connect ({@link DiskKv#queued}).
 * JSON, one object: {@code {"msgId":1,"appId":"a","regId":"r","kind":1,"payload":"{...}","createdAt":ms,
 * "expiresAt":ms,"requestId":null,"callbackUrl":null,"callbackParam":null}}. Readers ignore fields they do not
 * know, so a writer may add some; {@code kind} is {@link PayloadKind#code()}.
 *
 * @param payload the payload JSON as the app sent it (a string, not a nested object)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record QueuedMessage(long msgId, String appId, String regId, int kind, String payload, long createdAt,
                            long expiresAt, String requestId, String callbackUrl, String callbackParam) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** The message as the logic node accepted it (the same fields Redis would have kept). */
    public static QueuedMessage of(NewMessage m) {
        return new QueuedMessage(m.msgId(), m.appId(), m.regId(), m.kind().code(), m.payload(), m.createdAtMillis(),
                m.expiresAtMillis(), m.requestId(), m.callbackUrl(), m.callbackParam());
    }

    /** Back to what {@link io.tern.store.message.MessageRepository} records, for reconciling into Redis. */
    public NewMessage toNewMessage() {
        return new NewMessage(msgId, appId, regId, payloadKind(), payload, createdAt, expiresAt, requestId,
                callbackUrl, callbackParam);
    }

    /** @return the kind, or null for a code this version does not know */
    public PayloadKind payloadKind() {
        return PayloadKind.fromCode(kind);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a queued message always serialises", e);
        }
    }

    /** @return the message, or null for JSON that is not one (a reader skips it and says so) */
    public static QueuedMessage fromJson(String json) {
        if (json == null) {
            return null;
        }
        try {
            QueuedMessage m = JSON.readValue(json, QueuedMessage.class);
            return m.msgId() == 0 || m.appId() == null || m.regId() == null ? null : m;
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
