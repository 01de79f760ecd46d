package io.tern.loadtest.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code jcmd} against a JVM by pid: full GC, class histogram totals, JFR recordings. */
public final class Jcmd {
    private static final long TIMEOUT_SECONDS = 120;

    private Jcmd() {
    }

    /** Runs {@code jcmd <pid> <command...>} and returns its output. */
    public static String run(long pid, String... command) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
        cmd.add(Long.toString(pid));
        cmd.addAll(List.of(command));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("jcmd " + String.join(" ", command) + " timed out");
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("jcmd " + pid + " " + String.join(" ", command) + " failed: " + text);
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run jcmd: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    public static void fullGc(long pid) {
        run(pid, "GC.run");
    }

    /** Live heap in bytes: the "Total" line of {@code GC.class_histogram} (which runs a full GC first). */
    public static long liveHeapBytes(long pid) {
        String out = run(pid, "GC.class_histogram");
        for (String line : out.split("\n")) {
            String t = line.trim();
            if (t.startsWith("Total")) {
                String[] f = t.split("\\s+");
                return Long.parseLong(f[2]);
            }
        }
        throw new IllegalStateException("no Total line in the class histogram of " + pid);
    }

    /** The first {@code lines} rows of the class histogram (for the run directory). */
    public static String classHistogramHead(long pid, int lines) {
        String[] all = run(pid, "GC.class_histogram").split("\n");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(all.length, lines); i++) {
            sb.append(all[i]).append('\n');
        }
        return sb.toString();
    }

    /** {@code GC.heap_info}: committed ("total") and used heap in KiB, or {-1, -1} when unreadable. */
    public static long[] heapCommittedUsedKiB(long pid) {
        String out = run(pid, "GC.heap_info");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(out);
        return m.find() ? new long[]{Long.parseLong(m.group(1)), Long.parseLong(m.group(2))} : new long[]{-1, -1};
    }

    /**
     * {@code VM.native_memory summary} committed KiB per category (e.g. "Java Heap", "Thread", "Other"),
     * with "Total" for the whole JVM; empty when the JVM runs without -XX:NativeMemoryTracking.
     */
    public static java.util.Map<String, Long> nativeMemoryCommittedKiB(long pid) {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        String text;
        try {
            text = run(pid, "VM.native_memory", "summary");
        } catch (IllegalStateException e) {
            return out;
        }
        if (text.contains("not enabled")) {
            return out;
        }
        java.util.regex.Matcher total = java.util.regex.Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB")
                .matcher(text);
        if (total.find()) {
            out.put("Total", Long.parseLong(total.group(2)));
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("-\\s+([A-Za-z][A-Za-z ]*?) \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)")
                .matcher(text);
        while (m.find()) {
            out.put(m.group(1).trim(), Long.parseLong(m.group(3)));
        }
        return out;
    }

    public static void jfrStart(long pid, String name) {
        run(pid, "JFR.start", "name=" + name, "settings=profile");
    }

    /** Dumps and stops the recording; returns once the file is written. */
    public static void jfrStop(long pid, String name, Path file) {
        run(pid, "JFR.stop", "name=" + name, "filename=" + file.toAbsolutePath());
    }
}
