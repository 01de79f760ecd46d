package io.tern.dispatcher;

import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.runtime.main.RoleMain;

/**
 * {@code java io.tern.dispatcher.DispatcherMain [--config file]}: the file (or $TERN_CONFIG), then
 * TERN_DISPATCHER_* environment variables. Runs until SIGTERM ({@link Dispatcher#close}).
 */
public final class DispatcherMain {
    private DispatcherMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("dispatcher", args, DispatcherConfig::from, Dispatcher::start);
    }
}
