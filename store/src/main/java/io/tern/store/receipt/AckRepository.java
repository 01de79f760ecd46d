package io.tern.store.receipt;

import io.lettuce.core.ScriptOutputType;
import io.tern.store.Keys;
import io.tern.store.redis.LuaScript;
import io.tern.store.redis.RedisStore;
import io.tern.store.topic.AckRecord;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Records device acks: single-push messages become delivered, task copies count once per device. */
public final class AckRepository {
    private static final LuaScript APPLY = LuaScript.load("ack-apply");
    private static final AppliedAck.Target[] TARGETS = AppliedAck.Target.values();

    private final RedisStore redis;

    public AckRepository(RedisStore redis) {
        this.redis = redis;
    }

    public CompletableFuture<AppliedAck> apply(AckRecord ack, long nowMillis) {
        String[] keys = {Keys.message(ack.msgId()), Keys.queue(ack.appId(), ack.regId()), Keys.task(ack.msgId())};
        return APPLY.<List<Object>>run(redis.async(), ScriptOutputType.MULTI, keys,
                Long.toString(ack.msgId()), Long.toString(nowMillis))
                .thenApply(r -> new AppliedAck(TARGETS[((Long) r.get(0)).intValue()], ((Long) r.get(1)) == 1L,
                        (String) r.get(2), (String) r.get(3)));
    }
}
