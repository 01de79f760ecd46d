package io.tern.local;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** {@code ternctl local [config.properties]}: every role, Redis and Kafka on this machine until Ctrl-C. */
public final class LocalMain {
    private static final String USAGE = "usage: ternctl local [config.properties]   (settings: the file, then TERN_* env)";

    private LocalMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.println(USAGE);
            System.exit(0);
        }
        if (args.length > 1 || args.length == 1 && args[0].startsWith("-")) {
            System.err.println(USAGE);
            System.exit(2);
        }
        LocalPlatform platform;
        try {
            platform = LocalPlatform.start(Settings.load(args.length == 1 ? Path.of(args[0]) : null, System.getenv(), Map.of()),
                    System.out);
        } catch (ConfigException e) {
            System.err.println("bad configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("stopping Tern ...");
            platform.close();
            stopped.countDown();
        }, "ternctl-local-shutdown"));
        platform.printBanner(System.out);
        stopped.await();
    }
}
