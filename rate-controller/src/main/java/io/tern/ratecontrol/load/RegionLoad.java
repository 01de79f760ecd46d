package io.tern.ratecontrol.load;

/**
 * One region's deliveries against its capacity.
 *
 * @param brokers          live brokers reporting in the region
 * @param capacity         deliveries/s: the sum of its brokers' {@code broker.capacity}, at most the region's cap
 * @param downstream       deliveries/s its brokers wrote over their last second
 * @param cappedBy         the configured cap when it lowered the capacity, else 0
 */
public record RegionLoad(String region, int brokers, long capacity, double downstream, long cappedBy) {
}
