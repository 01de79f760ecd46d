package io.tern.loadtest.profile;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where a JFR recording's CPU samples ({@code jdk.ExecutionSample}) fall: by thread (name with
 * trailing numbers folded), by top frame, and by the first frame of our own code
 * ({@code io.tern}) on the stack. Native samples ({@code jdk.NativeMethodSample}: threads
 * waiting or in system calls) are counted apart.
 */
public final class HotMethods {
    private HotMethods() {
    }

    public record Summary(long samples, long nativeSamples, List<Map.Entry<String, Long>> threads,
                          List<Map.Entry<String, Long>> topFrames, List<Map.Entry<String, Long>> ownFrames) {
        public String render(String title, int lines) {
            StringBuilder sb = new StringBuilder();
            sb.append(title).append(": ").append(samples).append(" CPU samples (").append(nativeSamples)
                    .append(" native/waiting samples not counted)\n");
            section(sb, "  by thread", threads, lines);
            section(sb, "  by top frame", topFrames, lines);
            section(sb, "  by first io.tern frame on the stack", ownFrames, lines);
            return sb.toString();
        }

        private void section(StringBuilder sb, String name, List<Map.Entry<String, Long>> rows, int lines) {
            sb.append(name).append('\n');
            rows.stream().limit(lines).forEach(e -> sb.append(String.format("    %5.1f%%  %s%n",
                    samples == 0 ? 0 : 100.0 * e.getValue() / samples, e.getKey())));
        }
    }

    public static Summary summarize(Path jfr) throws IOException {
        Map<String, Long> threads = new HashMap<>();
        Map<String, Long> top = new HashMap<>();
        Map<String, Long> own = new HashMap<>();
        long samples = 0;
        long natives = 0;
        try (RecordingFile f = new RecordingFile(jfr)) {
            while (f.hasMoreEvents()) {
                RecordedEvent e = f.readEvent();
                String type = e.getEventType().getName();
                if (type.equals("jdk.NativeMethodSample")) {
                    natives++;
                    continue;
                }
                if (!type.equals("jdk.ExecutionSample")) {
                    continue;
                }
                samples++;
                RecordedThread t = e.getThread("sampledThread");
                String tn = t == null ? "?" : t.getJavaName() == null ? t.getOSName() : t.getJavaName();
                threads.merge(tn == null ? "?" : tn.replaceAll("[-#]?\\d+$", "-N").replaceAll("\\d+", "N"), 1L, Long::sum);
                RecordedStackTrace st = e.getStackTrace();
                if (st == null || st.getFrames().isEmpty()) {
                    continue;
                }
                top.merge(name(st.getFrames().get(0)), 1L, Long::sum);
                String firstOwn = "(none)";
                for (RecordedFrame fr : st.getFrames()) {
                    if (fr.getMethod() != null && fr.getMethod().getType().getName().startsWith("io.tern.")) {
                        firstOwn = name(fr);
                        break;
                    }
                }
                own.merge(firstOwn, 1L, Long::sum);
            }
        }
        return new Summary(samples, natives, sorted(threads), sorted(top), sorted(own));
    }

    private static String name(RecordedFrame f) {
        if (f.getMethod() == null) {
            return "?";
        }
        String cls = f.getMethod().getType().getName();
        return cls + "." + f.getMethod().getName();
    }

    private static List<Map.Entry<String, Long>> sorted(Map<String, Long> m) {
        return m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .collect(Collectors.toList());
    }
}
