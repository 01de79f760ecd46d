package io.tern.diskkv;

import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What holds a batch back (the disk KV away) and what is dead-lettered (a record that cannot be read). */
class DiskKvDownTest {

    @Test
    void anUnreachableOrSlowDiskKvIsDown() {
        assertTrue(DiskKvBackup.diskKvDown(new RedisConnectionException("refused")));
        assertTrue(DiskKvBackup.diskKvDown(new RedisCommandTimeoutException("timed out")));
    }

    @Test
    void anUnreadableRecordIsNeverTakenForAnOutageWhateverItsCause() {
        assertFalse(DiskKvBackup.diskKvDown(new IllegalArgumentException("not a task body",
                new IOException("parse error"))));
        assertFalse(DiskKvBackup.diskKvDown(new IllegalArgumentException("not a route change")));
    }
}
