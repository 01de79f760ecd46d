package io.tern.ops.cli.admin;

import java.io.PrintStream;

/**
 * A long operation's progress on the console (a region's move, a task's delivery): on a terminal one line redrawn in
 * place with {@code \r}; otherwise (a pipe, a log, {@code --output json}) a line printed only when the progress
 * changed, so scripts read one line per step. Ended with a newline once, also on Ctrl-C.
 */
public final class ProgressLine implements AutoCloseable {
    /** Characters of a bar between its brackets. */
    public static final int BAR_WIDTH = 30;

    private final PrintStream out;
    private final boolean tty;
    private final Thread endOnCtrlC;
    private String lastKey; // guarded by this
    private int shown; // guarded by this
    private boolean open; // guarded by this

    /** @param tty whether {@code out} is a terminal */
    public ProgressLine(PrintStream out, boolean tty) {
        this.out = out;
        this.tty = tty;
        this.endOnCtrlC = new Thread(this::end, "ternctl-progress-ctrl-c");
        Runtime.getRuntime().addShutdownHook(endOnCtrlC);
    }

    /**
     * @param key what counts as a change when not on a terminal (e.g. the text without an elapsed time, so a stalled
     *            operation does not print a line a second)
     */
    public synchronized void show(String text, String key) {
        if (tty) {
            // \r back to the line's start; spaces wipe what a longer previous line left behind.
            out.print("\r" + text + " ".repeat(Math.max(0, shown - text.length())));
            shown = text.length();
            open = true;
        } else if (!key.equals(lastKey)) {
            out.println(text);
        }
        lastKey = key;
        out.flush();
    }

    /** Whether anything was shown yet. */
    public synchronized boolean shownAny() {
        return lastKey != null;
    }

    /** Ends the redrawn line (before printing anything else). */
    public synchronized void end() {
        if (open) {
            out.println();
            out.flush();
            open = false;
        }
    }

    @Override
    public void close() {
        end();
        try {
            Runtime.getRuntime().removeShutdownHook(endOnCtrlC);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C: the hook is running or has run.
        }
    }

    /** {@code [#########.....]}: {@code fraction} (clamped to [0, 1]) of {@value #BAR_WIDTH} characters filled. */
    public static String bar(double fraction) {
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * BAR_WIDTH);
        return "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "]";
    }
}
