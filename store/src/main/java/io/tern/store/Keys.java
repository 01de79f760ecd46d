package io.tern.store;

/**
 * The Redis key schema, in one place. Per-device keys carry appId so apps never collide.
 * <pre>
 * tern:route:{app}:{reg}   string  "brokerId|epoch"                      no TTL; deleted on disconnect (CAS)
 * tern:device:{app}:{reg}  string  last connect ms: the device is known   PX device retention
 * tern:brokers             zset    brokerId scored by last heartbeat ms   pruned of long-dead ids
 * tern:broker:{id}         string  BrokerInfo JSON                        PX liveness TTL
 * tern:msg:{msgId}         hash    app, reg, kind, payload, status, ...   PEXPIREAT expiresAt + retention
 * tern:queue:{app}:{reg}   zset    msgIds not yet acked, scored by time   bounded; PX max TTL
 * tern:idem:{app}:{reqId}  string  msgId                                  PX idempotency window
 * tern:sig:{app}:{ts}:{sign} string "" (a signed /v1/auth request used)  PX the ±skew span
 * tern:task:{taskId}       hash    task body, state, counters n:*,        PEXPIREAT expiresAt + retention
 *                                  ackc:{counterId} (last count applied)
 * tern:task:{taskId}:acked set     regIds whose per-device ack of this    the task's remaining TTL
 *                                  broadcast counted (once per device)
 * tern:bcast:seq:{app}     string  the app's broadcast sequence (INCR)    no TTL: must never restart
 * tern:bcast:{app}         zset    taskIds scored by broadcast seq        bounded length; PX its longest task TTL
 * tern:tag:{app}:{tag}     set     regIds of the tag                      no TTL
 * tern:{callbacks}:due     zset    parked receipt ids scored by due ms    bounded (logic.callback.outbox-max)
 * tern:{callbacks}:items   hash    parked receipt id to ParkedReceipt     entries leave with their id in :due
 * (key builders for these three: BroadcastLog.seqKey / logKey, TagRepository.key)
 * </pre>
 */
public final class Keys {
    private static final String P = "tern:";

    private Keys() {
    }

    /** Receipts waiting for their callback POST, by due time (one hash tag: the outbox scripts touch both). */
    public static String callbacksDue() {
        return P + "{callbacks}:due";
    }

    public static String callbackItems() {
        return P + "{callbacks}:items";
    }

    public static String route(String appId, String regId) {
        return P + "route:" + appId + ':' + regId;
    }

    public static String device(String appId, String regId) {
        return P + "device:" + appId + ':' + regId;
    }

    public static String brokers() {
        return P + "brokers";
    }

    public static String broker(String brokerId) {
        return P + "broker:" + brokerId;
    }

    public static String message(long msgId) {
        return P + "msg:" + msgId;
    }

    public static String queue(String appId, String regId) {
        return P + "queue:" + appId + ':' + regId;
    }

    public static String task(long taskId) {
        return P + "task:" + taskId;
    }

    /** The devices whose per-device ack of broadcast task {@code taskId} was counted. */
    public static String taskAcked(long taskId) {
        return P + "task:" + taskId + ":acked";
    }

    public static String idempotency(String appId, String requestId) {
        return P + "idem:" + appId + ':' + requestId;
    }

    public static String usedSignature(String appId, long timestamp, String sign) {
        return P + "sig:" + appId + ':' + timestamp + ':' + sign;
    }
}
