package io.tern.ops.cli.admin;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** A sub-command of a ternctl command ({@code throttle status}): an enum constant and the word that names it. */
public interface Verb {
    String word();

    /**
     * The verb {@code args} start with, among {@code verbs} of command {@code command}; a missing or unknown word is a
     * usage error naming the verbs in their order.
     */
    static <V extends Verb> V first(String command, V[] verbs, List<String> args) throws UsageException {
        String known = Stream.of(verbs).map(Verb::word).collect(Collectors.joining(", "));
        if (args.isEmpty()) {
            throw new UsageException("missing " + command + " command (" + known + ")");
        }
        String word = args.get(0);
        for (V v : verbs) {
            if (v.word().equals(word)) {
                return v;
            }
        }
        throw new UsageException("unknown " + command + " command '" + word + "' (" + known + ")");
    }
}
