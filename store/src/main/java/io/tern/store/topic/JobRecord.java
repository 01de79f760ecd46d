package io.tern.store.topic;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * One chunk of a group push on the {@link Topics#JOBS} topic: send task {@code taskId} of app
 * {@code appId} to these devices. Encoded as newline-separated text: appId, taskId, regIds...
 */
public record JobRecord(String appId, long taskId, List<String> regIds) {

    public JobRecord {
        regIds = List.copyOf(regIds);
    }

    public byte[] encode() {
        return (appId + '\n' + taskId + '\n' + String.join("\n", regIds)).getBytes(StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException on a record that is not a job */
    public static JobRecord decode(byte[] bytes) {
        String[] f = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        if (f.length < 3) {
            throw new IllegalArgumentException("job record has " + f.length + " fields, want appId, taskId and regIds");
        }
        try {
            return new JobRecord(f[0], Long.parseLong(f[1]), Arrays.asList(f).subList(2, f.length));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("job record has a bad taskId: " + f[1]);
        }
    }
}
