package io.tern.bypass.drain;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * One partition's records between the last commit and the last poll, for the contiguous commit: the offset to
 * commit is that of the first record not yet completed (so a later record done first never moves the commit past an
 * unfinished one), or one past the last record read when all are done. Offsets may have gaps (compaction, control
 * records): contiguity is over the records read, not over numbers. Not thread-safe: the consumer thread's.
 */
final class PartitionProgress {
    private final TreeMap<Long, Boolean> open = new TreeMap<>(); // offset -> completed
    private long nextAfterRead = -1;
    private long committed = -1;

    /** A record read by a poll, in offset order. */
    void read(long offset) {
        if (offset < nextAfterRead) {
            return; // read again after a seek: already tracked
        }
        open.put(offset, Boolean.FALSE);
        nextAfterRead = offset + 1;
    }

    /** Handled (or dead-lettered); unknown offsets (already committed past, or from before a revoke) are ignored. */
    void completed(long offset) {
        open.computeIfPresent(offset, (k, v) -> Boolean.TRUE);
        Iterator<Map.Entry<Long, Boolean>> it = open.entrySet().iterator();
        while (it.hasNext() && it.next().getValue()) {
            it.remove();
        }
    }

    /** Records read and not yet committed past: waiting, being handled, or done behind an unfinished one. */
    int open() {
        return open.size();
    }

    /** The offset to commit (Kafka's "next to read"), or -1 when it would not move the commit forward. */
    long toCommit() {
        long next = open.isEmpty() ? nextAfterRead : open.firstKey();
        return next > committed ? next : -1;
    }

    /** The broker has (or is being sent) {@code offset}. */
    void committed(long offset) {
        committed = Math.max(committed, offset);
    }

    /** An asynchronous commit failed: send it again next time. */
    void commitFailed(long offset) {
        if (committed == offset) {
            committed = -1;
        }
    }
}
