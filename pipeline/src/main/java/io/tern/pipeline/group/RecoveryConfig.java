package io.tern.pipeline.group;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;

import java.time.Duration;

/**
 * Leases that let another logic node (or a restarted one) take over, keys {@code logic.*}.
 *
 * @param nodeIdLeaseTtl  {@code logic.node-id-lease-ttl}, default 2min: a logic node holds its msgId node id
 *                        this long past its last renewal (renewed every third of it); it stops issuing ids
 *                        (the API answers 503) once it cannot renew within it
 * @param taskLeaseTtl    {@code logic.task-lease-ttl}, default 15s: a tag push being resolved is owned this long
 *                        past its owner's last renewal; then any node's sweeper resumes it from its saved cursor
 * @param taskSweep       {@code logic.task-sweep}, default 5s: how often each node looks for tasks whose lease expired
 * @param taskSweepMax    {@code logic.task-sweep-max}, default 16: tasks one sweep takes over at most
 * @param resolveAttempts {@code logic.resolve-attempts}, default 5: takeovers of one tag push before it is failed
 *                        (state {@code failed}, with its reason in GET task)
 * @param maxFanouts      {@code logic.max-fanouts}, default 256: broadcast fan-outs one node runs at once (each
 *                        answered and running in the background under a {@code task-lease-ttl} lease); beyond it
 *                        {@code /v1/push/all} answers 429 and sweepers take over no more
 * @param fanoutTakeovers {@code logic.fanout-takeovers}, default 5: takeovers of one broadcast's unfinished fan-out
 *                        before it is given up (its devices still catch up from the broadcast log on reconnect)
 */
public record RecoveryConfig(Duration nodeIdLeaseTtl, Duration taskLeaseTtl, Duration taskSweep, int taskSweepMax,
                             int resolveAttempts, int maxFanouts, int fanoutTakeovers) {

    public RecoveryConfig {
        ConfigException.require(nodeIdLeaseTtl.toMillis() >= 300 && nodeIdLeaseTtl.toMinutes() <= 10,
                "logic.node-id-lease-ttl must be in [300ms, 10min]");
        ConfigException.require(taskLeaseTtl.toMillis() >= 300, "logic.task-lease-ttl must be >= 300ms");
        ConfigException.require(taskSweep.toMillis() >= 10, "logic.task-sweep must be >= 10ms");
        ConfigException.require(taskSweepMax >= 1 && taskSweepMax <= 1000, "logic.task-sweep-max must be in [1, 1000]");
        ConfigException.require(resolveAttempts >= 1 && resolveAttempts <= 100, "logic.resolve-attempts must be in [1, 100]");
        ConfigException.require(maxFanouts >= 1 && maxFanouts <= 100_000, "logic.max-fanouts must be in [1, 100000]");
        ConfigException.require(fanoutTakeovers >= 1 && fanoutTakeovers <= 100,
                "logic.fanout-takeovers must be in [1, 100]");
    }

    public static RecoveryConfig defaults() {
        return new RecoveryConfig(Duration.ofMinutes(2), Duration.ofSeconds(15), Duration.ofSeconds(5), 16, 5, 256, 5);
    }

    public static RecoveryConfig from(Settings s) {
        return from(s, "logic");
    }

    /** The same keys under {@code <role>.}: every role that runs the pipeline (logic node, bypass consumer). */
    public static RecoveryConfig from(Settings s, String role) {
        RecoveryConfig d = defaults();
        return new RecoveryConfig(
                s.duration(role + ".node-id-lease-ttl", d.nodeIdLeaseTtl()),
                s.duration(role + ".task-lease-ttl", d.taskLeaseTtl()),
                s.duration(role + ".task-sweep", d.taskSweep()),
                s.integer(role + ".task-sweep-max", d.taskSweepMax()),
                s.integer(role + ".resolve-attempts", d.resolveAttempts()),
                s.integer(role + ".max-fanouts", d.maxFanouts()),
                s.integer(role + ".fanout-takeovers", d.fanoutTakeovers()));
    }
}
