package io.tern.scheduler.policy;

import io.tern.store.region.PolicyChange;
import io.tern.store.region.RegionPolicy;

/** One change to the region policy: the next version and the audit entry that explains it. */
public record PolicyStep(RegionPolicy next, PolicyChange change) {
}
