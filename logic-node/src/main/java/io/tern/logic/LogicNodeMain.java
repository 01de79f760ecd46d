package io.tern.logic;

import io.tern.logic.config.LogicConfig;
import io.tern.runtime.config.Settings;

import java.nio.file.Path;
import java.util.Map;

/** {@code java io.tern.logic.LogicNodeMain [config.properties]}; environment TERN_LOGIC_* overrides. */
public final class LogicNodeMain {
    private LogicNodeMain() {
    }

    public static void main(String[] args) {
        Settings settings = Settings.load(args.length > 0 ? Path.of(args[0]) : null, System.getenv(), Map.of());
        LogicNode node = LogicNode.start(LogicConfig.from(settings));
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "logic-shutdown"));
    }
}
