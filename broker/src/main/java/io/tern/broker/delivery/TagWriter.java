package io.tern.broker.delivery;

import io.tern.broker.metrics.BrokerMetrics;
import io.tern.broker.session.Session;
import io.tern.broker.session.TagSink;
import io.tern.store.tag.TagRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A device's SUBSCRIBE / UNSUBSCRIBE to the tag sets in Redis, one SADD / SREM per tag,
 * asynchronously. Writes in flight are bounded: beyond {@code maxInFlight} a frame's tags are
 * dropped and counted (the device re-subscribes on its next start), so a flood of tag frames
 * cannot queue without bound in the Redis client. Failures are counted, never retried.
 */
public final class TagWriter implements TagSink {
    private static final Logger log = LoggerFactory.getLogger(TagWriter.class);

    private final String brokerId;
    private final TagRepository tags;
    private final BrokerMetrics metrics;
    private final int maxInFlight;
    private final AtomicInteger inFlight = new AtomicInteger();

    public TagWriter(String brokerId, TagRepository tags, BrokerMetrics metrics, int maxInFlight) {
        this.brokerId = brokerId;
        this.tags = tags;
        this.metrics = metrics;
        this.maxInFlight = maxInFlight;
        metrics.gauge("tern.broker.tag.updates.in.flight", "Tag writes waiting for Redis", inFlight::get);
    }

    @Override
    public void subscribe(Session session, List<String> tagList) {
        apply(session, tagList, true);
    }

    @Override
    public void unsubscribe(Session session, List<String> tagList) {
        apply(session, tagList, false);
    }

    private void apply(Session session, List<String> tagList, boolean add) {
        int n = tagList.size();
        if (inFlight.addAndGet(n) > maxInFlight) {
            inFlight.addAndGet(-n);
            metrics.tagUpdatesDropped(n);
            log.debug("[broker {} app={} reg={}] {} tags dropped: {} tag writes in flight", brokerId, session.appId(),
                    session.regId(), n, maxInFlight);
            return;
        }
        metrics.tagUpdates(add, n);
        List<String> reg = List.of(session.regId());
        for (String tag : tagList) {
            CompletableFuture<Long> f;
            try {
                f = add ? tags.add(session.appId(), tag, reg) : tags.remove(session.appId(), tag, reg);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e); // e.g. rejected while Redis is disconnected
            }
            f.whenComplete((changed, err) -> {
                inFlight.decrementAndGet();
                if (err != null) {
                    metrics.storeFailure(add ? "tag-add" : "tag-remove");
                    log.debug("[broker {} app={} reg={}] tag {} {} failed: {}", brokerId, session.appId(),
                            session.regId(), add ? "add" : "remove", tag, err.toString());
                }
            });
        }
    }
}
