package io.tern.charts;

import io.tern.broker.config.BrokerConfig;
import io.tern.bypass.config.BypassConfig;
import io.tern.diskkv.config.BackupConfig;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.logic.config.LogicConfig;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.runtime.config.Settings;
import io.tern.runtime.tls.TlsConfig;
import io.tern.scheduler.config.SchedulerConfig;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;

/**
 * Each role the chart runs, by container name: the key prefix its config record reads, how it parses
 * {@link Settings}, and which of its ports a manifest must name.
 */
enum Role {
    BROKER("broker", "broker", BrokerConfig::from),
    DISPATCHER("dispatcher", "dispatcher", DispatcherConfig::from),
    LOGIC_NODE("logic-node", "logic", LogicConfig::from),
    GLOBAL_SCHEDULER("global-scheduler", "scheduler", SchedulerConfig::from),
    RATE_CONTROLLER("rate-controller", "ratecontrol", RateControllerConfig::from),
    BYPASS_CONSUMER("bypass-consumer", "bypass", BypassConfig::from),
    DISK_KV_BACKUP("disk-kv-backup", "backup", BackupConfig::from);

    final String container;
    final String section;
    private final Function<Settings, ?> parse;

    Role(String container, String section, Function<Settings, ?> parse) {
        this.container = container;
        this.section = section;
        this.parse = parse;
    }

    static Role of(String container) {
        return Arrays.stream(values()).filter(r -> r.container.equals(container)).findFirst()
                .orElseThrow(() -> new AssertionError("no role runs in a container named " + container));
    }

    /** The role's config record, parsed and validated as its main does. */
    Object parse(Settings s) {
        return parse.apply(s);
    }

    /** The record's own defaults (in dev mode, whose development secrets it accepts without any setting). */
    Object defaults() {
        return parse(Settings.of(this == DISK_KV_BACKUP ? Map.of() : Map.of(section + ".dev-mode", "true")));
    }

    /** {@code TERN_BROKER_}: the environment names this role's keys arrive under. */
    String envPrefix() {
        return Settings.keyToEnv(section) + "_";
    }

    /** Port name in the chart to the port the config binds. */
    Map<String, Integer> ports(Object config) {
        if (config instanceof BrokerConfig b) {
            return Map.of("tcp", b.tcpPort(), "ws", b.wsPort(), "internal", b.internalPort(), "admin", b.adminPort());
        }
        return Map.of("http", http(config));
    }

    private static int http(Object config) {
        if (config instanceof DispatcherConfig c) {
            return c.http().port();
        } else if (config instanceof LogicConfig c) {
            return c.http().port();
        } else if (config instanceof SchedulerConfig c) {
            return c.http().port();
        } else if (config instanceof RateControllerConfig c) {
            return c.http().port();
        } else if (config instanceof BypassConfig c) {
            return c.http().port();
        } else if (config instanceof BackupConfig c) {
            return c.http().port();
        }
        throw new AssertionError(config);
    }

    /** The port name serving /health: the broker's admin port, every other role's one HTTP port. */
    String healthPort() {
        return this == BROKER ? "admin" : "http";
    }

    /** Whether /health answers over TLS: the broker's admin port never does; the others follow their tls keys. */
    boolean healthOverTls(Object config) {
        TlsConfig tls = null;
        if (config instanceof DispatcherConfig c) {
            tls = c.tls();
        } else if (config instanceof LogicConfig c) {
            tls = c.tls();
        } else if (config instanceof SchedulerConfig c) {
            tls = c.tls();
        } else if (config instanceof RateControllerConfig c) {
            tls = c.tls();
        } else if (config instanceof BypassConfig c) {
            tls = c.tls();
        }
        return tls != null && tls.enabled();
    }
}
