package io.tern.runtime.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class SettingsDescribeTest {
    record Sample(String redisUri, String tokenSecret, String appKey, int port, String backup) {
    }

    @Test
    void secretsAndUriPasswordsAreRedacted() {
        String d = Settings.describe(new Sample("redis://:Pa55-w0rd@10.0.0.5:6379/0", "s3cr3t-value", "k-123", 8080,
                "rediss://user:other-pw@host:6380"));
        assertFalse(d.contains("Pa55-w0rd"), d);
        assertFalse(d.contains("s3cr3t-value"), d);
        assertFalse(d.contains("k-123"), d);
        assertFalse(d.contains("other-pw"), d);
        assertEquals("Sample[redisUri=redis://****@10.0.0.5:6379/0, tokenSecret=****, appKey=****, port=8080, "
                + "backup=rediss://****@host:6380]", d);
    }

    @Test
    void urisWithoutUserInfoAreKept() {
        assertEquals("at redis://127.0.0.1:6390 and http://h/p?a=b@c", Settings.redactUris("at redis://127.0.0.1:6390 and http://h/p?a=b@c"));
    }
}
