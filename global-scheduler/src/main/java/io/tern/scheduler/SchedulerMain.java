package io.tern.scheduler;

import io.tern.runtime.main.RoleMain;
import io.tern.scheduler.config.SchedulerConfig;

/**
 * {@code java io.tern.scheduler.SchedulerMain [--config file]}: the file (or $TERN_CONFIG), then
 * TERN_SCHEDULER_* environment variables. Runs until SIGTERM ({@link GlobalScheduler#close}).
 */
public final class SchedulerMain {
    private SchedulerMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("global-scheduler", args, SchedulerConfig::from, GlobalScheduler::start);
    }
}
