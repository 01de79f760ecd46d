package io.tern.ops.cli.admin;

/** The command line itself is wrong (exit status 2): nothing was sent. */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
