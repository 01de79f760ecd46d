package io.tern.store.region;

/**
 * One entry of the policy's audit log: who changed what, when and why.
 *
 * @param version  the policy version the change produced
 * @param atMillis when
 * @param by       the SRE (token name) or {@code scheduler:<id>} for the scheduler's own steps
 * @param action   e.g. {@code failover}, {@code failback}, {@code stage}, {@code pause}, {@code resume}, {@code done}
 * @param region   the region changed
 * @param detail   the SRE's reason, or what the scheduler saw
 */
public record PolicyChange(long version, long atMillis, String by, String action, String region, String detail) {
}
