package io.tern.ops.cli.region;

/** The command line itself is wrong (exit status 2): nothing was sent to the scheduler. */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
