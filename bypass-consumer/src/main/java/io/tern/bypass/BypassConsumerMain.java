package io.tern.bypass;

import io.tern.bypass.config.BypassConfig;
import io.tern.runtime.main.RoleMain;

/**
 * {@code java io.tern.bypass.BypassConsumerMain [--config file]}: the file (or $TERN_CONFIG), then TERN_BYPASS_*
 * environment variables. Runs until SIGTERM ({@link BypassConsumer#close}: in-flight records finish briefly, what is
 * contiguous is committed, the group is left so the others take the partitions at once).
 */
public final class BypassConsumerMain {
    private BypassConsumerMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("bypass", args, BypassConfig::from, BypassConsumer::start);
    }
}
