package io.tern.store.tag;

import java.util.List;

/**
 * One step of a tag scan: some members and where to go on. Pass {@link #cursor()} to the next
 * {@link TagRepository#scan} call until {@link #finished()}. A member may appear in more than
 * one chunk (SSCAN's guarantee), so consumers de-duplicate or tolerate repeats.
 */
public record TagChunk(List<String> regIds, String cursor, boolean finished) {
    /** Where every scan starts. */
    public static final String START = "0";

    public TagChunk {
        regIds = List.copyOf(regIds);
    }
}
