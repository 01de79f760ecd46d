package io.tern.store.topic;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * One chunk of a group push on the {@link Topics#JOBS} topic: send task {@code taskId} of app
 * {@code appId} to these devices. {@code jobId} names the chunk within its task (the same chunk
 * published again, by a resumed resolution, carries the same id); null for records written before
 * job ids. Encoded as newline-separated text: appId, {@code taskId} or {@code taskId/jobId}, regIds...
 */
public record JobRecord(String appId, long taskId, String jobId, List<String> regIds) {

    public JobRecord {
        regIds = List.copyOf(regIds);
        if (jobId != null && (jobId.isEmpty() || jobId.indexOf('/') >= 0 || jobId.indexOf('\n') >= 0)) {
            throw new IllegalArgumentException("job id must be non-empty without '/' or newlines: " + jobId);
        }
    }

    public byte[] encode() {
        String id = jobId == null ? Long.toString(taskId) : taskId + "/" + jobId;
        return (appId + '\n' + id + '\n' + String.join("\n", regIds)).getBytes(StandardCharsets.UTF_8);
    }

    /** @throws IllegalArgumentException on a record that is not a job */
    public static JobRecord decode(byte[] bytes) {
        String[] f = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        if (f.length < 3) {
            throw new IllegalArgumentException("job record has " + f.length + " fields, want appId, taskId and regIds");
        }
        int slash = f[1].indexOf('/');
        String taskId = slash < 0 ? f[1] : f[1].substring(0, slash);
        try {
            return new JobRecord(f[0], Long.parseLong(taskId), slash < 0 ? null : f[1].substring(slash + 1),
                    Arrays.asList(f).subList(2, f.length));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("job record has a bad taskId: " + f[1]);
        }
    }
}
