package io.tern.pipeline.buffer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/** The one wire form of {@link BufferedPush} in {@code tern.buffer}: JSON, unknown fields ignored (newer writers). */
public final class BufferCodec {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private BufferCodec() {
    }

    public static byte[] encode(BufferedPush push) {
        try {
            return JSON.writeValueAsBytes(push);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @throws UnreadableRecordException when the bytes are not a valid BufferedPush (to the dead-letter topic) */
    public static BufferedPush decode(byte[] value) {
        if (value == null) {
            throw new UnreadableRecordException("empty record");
        }
        try {
            return JSON.readValue(value, BufferedPush.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new UnreadableRecordException(e.getMessage());
        }
    }

    /** A buffer record that no version of the drain can handle: dead-lettered and counted, never retried. */
    public static final class UnreadableRecordException extends RuntimeException {
        public UnreadableRecordException(String why) {
            super("unreadable buffer record: " + why, null, false, false);
        }
    }
}
