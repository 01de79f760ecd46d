package io.tern.broker;

import io.tern.broker.config.BrokerConfig;
import io.tern.runtime.main.RoleMain;

/**
 * {@code java io.tern.broker.BrokerMain [--config file]}: the file (or $TERN_CONFIG), then
 * TERN_BROKER_* environment variables. Runs until SIGTERM, which stops it in order ({@link Broker#close}).
 */
public final class BrokerMain {
    private BrokerMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("broker", args, BrokerConfig::from, Broker::start);
    }
}
