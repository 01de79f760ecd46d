package io.tern.ratecontrol;

import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.main.RoleMain;

/**
 * {@code java io.tern.ratecontrol.RateControllerMain [--config file]}: the file (or $TERN_CONFIG), then
 * TERN_RATECONTROL_* environment variables. Runs until SIGTERM ({@link RateController#close}).
 */
public final class RateControllerMain {
    private RateControllerMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("rate-controller", args, RateControllerConfig::from, RateController::start);
    }
}
