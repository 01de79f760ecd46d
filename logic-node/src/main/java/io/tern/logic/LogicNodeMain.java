package io.tern.logic;

import io.tern.logic.config.LogicConfig;
import io.tern.runtime.main.RoleMain;

/**
 * {@code java io.tern.logic.LogicNodeMain [--config file]}: the file (or $TERN_CONFIG), then
 * TERN_LOGIC_* environment variables. Runs until SIGTERM ({@link LogicNode#close}).
 */
public final class LogicNodeMain {
    private LogicNodeMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("logic", args, LogicConfig::from, LogicNode::start);
    }
}
