package io.tern.dispatcher;

import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java io.tern.dispatcher.DispatcherMain [config.properties]}: the file (or
 * {@code $TERN_CONFIG}), then {@code TERN_DISPATCHER_*} environment variables.
 */
public final class DispatcherMain {
    private DispatcherMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        DispatcherConfig config;
        try {
            Settings settings = Settings.load(args.length > 0 ? Path.of(args[0]) : null, System.getenv(), Map.of());
            config = DispatcherConfig.from(settings);
        } catch (ConfigException e) {
            System.err.println("dispatcher: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        Dispatcher dispatcher = Dispatcher.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dispatcher.close();
            stopped.countDown();
        }, "dispatcher-shutdown"));
        // Netty and the refresh thread are daemons: keep the JVM up until the hook has run.
        stopped.await();
    }
}
