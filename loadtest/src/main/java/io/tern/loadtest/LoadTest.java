package io.tern.loadtest;

import io.tern.loadtest.scenario.Options;
import io.tern.loadtest.scenario.Scenario;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The scenario runner: {@code loadtest/run <hold|single|broadcast> [flags]} (flags:
 * {@link Options#usage()}). Starts the platform under test itself (Redis, Kafka, dispatcher and
 * logic node in this JVM, brokers as child JVMs), simulated devices in child JVMs, prints a
 * progress line every few seconds, then a table and one JSON line. Exit status 0 when the run
 * completed, 2 for bad flags, 3 when the scenario's API is not available, 1 on failure.
 */
public final class LoadTest {
    private LoadTest() {
    }

    public static void main(String[] args) {
        quietLogging();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        int status;
        try (Scenario s = Scenario.of(o, out)) {
            Runtime.getRuntime().addShutdownHook(new Thread(s::close, "loadtest-shutdown"));
            status = s.run();
        } catch (Exception e) {
            System.err.println("run failed: " + e);
            e.printStackTrace();
            status = 1;
        }
        out.flush();
        // Kafka and Netty leave non-daemon threads behind; the platform is closed by now.
        Runtime.getRuntime().halt(status);
    }

    /** WARN for everything but our own progress unless the caller chose levels (-Dorg.slf4j.simpleLogger.*). */
    static void quietLogging() {
        String prefix = "org.slf4j.simpleLogger.";
        if (System.getProperty(prefix + "defaultLogLevel") == null) {
            System.setProperty(prefix + "defaultLogLevel", "warn");
        }
        // The in-process Kafka broker warns about its own shutdown after the JSON line otherwise.
        for (String kafka : new String[]{"org.apache.kafka", "kafka", "state.change.logger"}) {
            if (System.getProperty(prefix + "log." + kafka) == null) {
                System.setProperty(prefix + "log." + kafka, "error");
            }
        }
    }
}
