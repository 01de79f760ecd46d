package io.tern.bypass.drain;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PartitionProgressTest {

    @Test
    void aLaterRecordDoneFirstDoesNotMoveTheCommitPastAnUnfinishedOne() {
        PartitionProgress p = new PartitionProgress();
        for (long o = 10; o < 15; o++) {
            p.read(o);
        }
        assertEquals(10, p.toCommit(), "nothing done: the commit stays at the first record");
        p.committed(10);
        p.completed(12);
        p.completed(14);
        assertEquals(-1, p.toCommit(), "10 and 11 unfinished: no move");
        p.completed(10);
        assertEquals(11, p.toCommit());
        p.committed(11);
        p.completed(11);
        assertEquals(13, p.toCommit(), "11 and the earlier-done 12 are contiguous now");
        p.committed(13);
        p.completed(13);
        assertEquals(15, p.toCommit(), "all done: one past the last read");
        assertEquals(0, p.open());
    }

    @Test
    void gapsInOffsetsDoNotBlockTheCommit() {
        PartitionProgress p = new PartitionProgress();
        p.read(3);
        p.read(7);
        p.completed(3);
        assertEquals(7, p.toCommit());
        p.completed(7);
        assertEquals(8, p.toCommit());
    }

    @Test
    void openCountsRecordsDoneBehindAnUnfinishedOne() {
        PartitionProgress p = new PartitionProgress();
        p.read(0);
        p.read(1);
        p.read(2);
        p.completed(2);
        p.completed(1);
        assertEquals(3, p.open(), "the window stays full until 0 is done");
        p.completed(0);
        assertEquals(0, p.open());
    }

    @Test
    void completionsOfUnknownOffsetsAndRereadsAreIgnored() {
        PartitionProgress p = new PartitionProgress();
        p.read(5);
        p.completed(4);
        p.read(5);
        assertEquals(1, p.open());
        assertEquals(5, p.toCommit());
    }

    @Test
    void aFailedCommitIsSentAgain() {
        PartitionProgress p = new PartitionProgress();
        p.read(0);
        p.completed(0);
        p.committed(1);
        assertEquals(-1, p.toCommit());
        p.commitFailed(1);
        assertEquals(1, p.toCommit());
    }
}
