package io.tern.broker;

import io.tern.broker.config.BrokerConfig;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Map;

/**
 * {@code java io.tern.broker.BrokerMain [config.properties]}: file (or $TERN_CONFIG), then
 * TERN_BROKER_* environment variables. Runs until the JVM is asked to stop.
 */
public final class BrokerMain {
    private static final Logger log = LoggerFactory.getLogger(BrokerMain.class);

    private BrokerMain() {
    }

    public static void main(String[] args) {
        BrokerConfig config;
        try {
            Settings settings = Settings.load(args.length > 0 ? Path.of(args[0]) : null, System.getenv(), Map.of());
            config = BrokerConfig.from(settings);
        } catch (ConfigException e) {
            log.error("invalid broker configuration: {}", e.getMessage());
            System.exit(2);
            return;
        }
        Broker broker = Broker.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "tern-broker-" + config.id() + "-shutdown"));
        // Netty's threads are daemons: keep the JVM up until close() has run.
        broker.terminated().join();
    }
}
