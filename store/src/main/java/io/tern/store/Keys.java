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
 *                                  bf ("m:k": size of the broadcast's ack filter),
 *                                  target, rsources, rsrc, rcur, rjobs, owner, attempts, reason
 *                                  (tag-push resolution progress and lease)
 * tern:task:{taskId}:jobs  set     ids of the tag-push jobs fanned out    the task's remaining TTL
 *                                  (a re-published job is skipped)
 * tern:tasks:resolving     zset    taskIds being resolved, scored by      no TTL; entries leave when
 *                                  their owner's lease end (ms)           done, failed or gone
 * tern:tasks:recent        zset    taskIds scored by creation ms          bounded (TaskRepository.RECENT_KEPT);
 *                                  (the SRE console's recent tasks)       entries past retention are skipped
 * tern:task:{taskId}:ackbf string  Bloom filter bitmap of the devices     the task's remaining TTL
 *                                  whose ack of this broadcast counted
 * tern:bcast:seq:{app}     string  the app's broadcast sequence (INCR)    no TTL: must never restart
 * tern:bcast:{app}         zset    taskIds scored by broadcast seq        bounded length; PX its longest task TTL
 * tern:tag:{app}:{tag}     set     regIds of the tag                      no TTL
 * tern:redeliver           zset    msgIds due for a delivery check,       bounded (logic.redelivery.max-due);
 *                                  scored by due ms                       left when marked sent / expired
 * tern:node-ids:{n}        string  "logicId|token" of the node holding    PX lease TTL, renewed
 *                                  msgId node id n (0..1023)
 * tern:node-ids:{n}:hw     string  ms up to which a holder of id n may    no TTL (1,024 keys at most)
 *                                  have issued msgIds
 * tern:{callbacks}:due     zset    parked receipt ids scored by due ms    bounded (logic.callback.outbox-max)
 * tern:{callbacks}:items   hash    parked receipt id to ParkedReceipt     entries leave with their id in :due
 *                                  (written by ack-apply.lua)
 * tern:{regions}:policy   hash    v (version), json (RegionPolicy)        no TTL; compare-and-set on v
 * tern:{regions}:log      list    PolicyChange JSON, newest first         bounded (audit log)
 * tern:{regions}:leader   string  "schedulerId|token" of the leading      PX lease TTL, renewed
 *                                  global scheduler
 * tern:{rate}:directive   hash    v (version), json (ThrottleDirective)   no TTL; compare-and-set on v
 * tern:{rate}:log         list    DirectiveChange JSON, newest first     bounded (audit log)
 * tern:{rate}:leader      string  "controllerId|token" of the leading    PX lease TTL, renewed
 *                                  rate controller
 * tern:{rate}:alive       string  the leader's last tick (epoch ms)      PX hold time; obeyers read its age
 * tern:{rate}:obeyers     zset    obeyer id → expiry (epoch ms)           members past expiry pruned by readers
 * tern:{rate}:floors      hash    floor id → ReplicaFloor JSON            each removed after its end
 * tern:{rate}:usage       hash    obeyer id → PermitUsage JSON (gated     fields past their expiry removed
 *                                  deliveries/s it let through)           by the controller's read
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

    /** Ids of the tag-push jobs of task {@code taskId} already fanned out. */
    public static String taskJobs(long taskId) {
        return P + "task:" + taskId + ":jobs";
    }

    /** The newest tasks' ids, scored by creation time: what the SRE console lists. */
    public static String recentTasks() {
        return P + "tasks:recent";
    }

    /** Tasks whose tag expression is being resolved, scored by their owner's lease end. */
    public static String resolvingTasks() {
        return P + "tasks:resolving";
    }

    /** The Bloom filter of the devices whose ack of broadcast task {@code taskId} was counted. */
    public static String taskAckFilter(long taskId) {
        return P + "task:" + taskId + ":ackbf";
    }

    /** The lease of logic node id {@code nodeId}: who may issue msgIds with it. */
    public static String nodeIdLease(int nodeId) {
        return P + "node-ids:" + nodeId;
    }

    /** The last millisecond a holder of {@code nodeId} may have put into a msgId. */
    public static String nodeIdHighWater(int nodeId) {
        return P + "node-ids:" + nodeId + ":hw";
    }

    /** Single-push messages accepted for a routed device and not yet marked sent, scored by when to check them. */
    public static String redeliveryDue() {
        return P + "redeliver";
    }

    public static String idempotency(String appId, String requestId) {
        return P + "idem:" + appId + ':' + requestId;
    }

    public static String usedSignature(String appId, long timestamp, String sign) {
        return P + "sig:" + appId + ':' + timestamp + ':' + sign;
    }

    /** The region policy: version and JSON (one hash tag: the replace script also appends to the log). */
    public static String regionPolicy() {
        return P + "{regions}:policy";
    }

    public static String regionPolicyLog() {
        return P + "{regions}:log";
    }

    /** The throttle directive: version and JSON (one hash tag with its log, lease and heartbeat). */
    public static String throttleDirective() {
        return P + "{rate}:directive";
    }

    public static String throttleLog() {
        return P + "{rate}:log";
    }

    /** The rate controller leader's lease. */
    public static String rateControllerLeader() {
        return P + "{rate}:leader";
    }

    /** The leading rate controller's heartbeat: while it lives, obeyers trust the directive. */
    public static String rateControllerAlive() {
        return P + "{rate}:alive";
    }

    /** Live obeyers of the directive (logic nodes, bypass consumers): each takes its share of the permit. */
    public static String permitObeyers() {
        return P + "{rate}:obeyers";
    }

    /** What each obeyer reports it let through the permit (the controller's "gated" load). */
    public static String permitUsage() {
        return P + "{rate}:usage";
    }

    /** Replica floors for the bypass consumers (SRE-scheduled and ahead of large scheduled pushes). */
    public static String replicaFloors() {
        return P + "{rate}:floors";
    }

    /** The global scheduler leader's lease. */
    public static String schedulerLeader() {
        return P + "{regions}:leader";
    }
}
