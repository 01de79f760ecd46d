package io.tern.store;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;

/**
 * The Redis key schema, in one place: no other class and no Lua script builds a key. Keys a script
 * touches together carry one hash tag ({@code {...}}), so they share a Redis Cluster slot; every script
 * gets all its keys in KEYS. Per-device keys carry appId so apps never collide.
 * <pre>
 * tag {app:reg}: a device, so a single push is one script on one slot
 * tern:{app:reg}:route     string  "brokerId|epoch"                      no TTL; deleted on disconnect (CAS)
 * tern:{app:reg}:device    string  last connect ms: the device is known   PX device retention
 * tern:{app:reg}:queue     zset    msgIds / taskIds not yet acked         bounded; PX max TTL
 * tern:{app:reg}:msg:{id}  hash    app, reg, kind, payload, status, ...,  PEXPIREAT expiresAt + retention
 *                                  owed (a callback receipt not yet parked)
 * tern:{app:reg}:idem:{r}  string  msgId of single push requestId r      PX idempotency window
 * tern:msgref:{id}         string  "app\u001freg": where message id lives PX like the message (GET by msgId)
 *
 * tag {t:id}: a group-push task
 * tern:{t:id}              hash    task body, state, counters n:*,        PEXPIREAT expiresAt + retention
 *                                  bf ("m:k": size of the broadcast's ack filter), bcastAt, bcastSeq,
 *                                  target, rsources, rsrc, rcur, rjobs, owner, attempts, reason
 *                                  (tag-push resolution progress and lease), owed:{receipt id},
 *                                  fo:{brokerId} (copies that broker wrote of this broadcast), fotakeovers
 * tern:{t:id}:jobs         set     ids of the tag-push jobs fanned out    the task's remaining TTL
 * tern:{t:id}:ackbf        string  Bloom filter bitmap of the devices     the task's remaining TTL
 *                                  whose ack of this broadcast counted
 *
 * tag {bcast:app}: an app's broadcast log
 * tern:{bcast:app}:seq     string  the app's broadcast sequence (INCR)    no TTL: must never restart
 * tern:{bcast:app}:log     zset    taskIds scored by broadcast seq        bounded length; PX its longest task TTL
 *
 * tag {redeliver:n}: shard n (0..REDELIVERY_SHARDS-1) of the delivery checks, by msgId
 * tern:{redeliver:n}       zset    msgIds due for a delivery check,       bounded (logic.redelivery.max-due over
 *                                  scored by due ms                       all shards); left when marked sent / expired
 * tern:{redeliver:n}:tries hash    msgId to redeliveries so far           fields leave with their zset entry
 *
 * tag {resolving}: tag pushes being resolved
 * tern:{resolving}         zset    taskIds being resolved, scored by      no TTL; entries leave when
 *                                  their owner's lease end (ms)           done, failed or gone
 * tag {fanout}: broadcasts accepted whose fan-out to the brokers is not finished
 * tern:{fanout}            zset    taskIds, scored by their owner's       no TTL; entries leave when every
 *                                  lease end (ms)                         broker answered or was given up
 * tag {schedule}: scheduled tasks (logic-node TaskScheduler)
 * tern:{schedule}          zset    taskIds by sendAt ms                   until fired or cancelled
 * tern:{schedule}:{id}     hash    app, target, sendAt, attempts, owner   PEXPIREAT max-ahead
 *
 * untagged: each used alone (one key per command or script)
 * tern:brokers             zset    brokerId scored by last heartbeat ms   pruned of long-dead ids
 * tern:broker:{id}         string  BrokerInfo JSON                        PX liveness TTL
 * tern:broker:{id}:evict   channel [appId, regId, epoch] JSON             (pub/sub, not a key)
 * tern:idem:{app}:{scope}:{r} string answer of a list push, task, ...     PX idempotency window
 * tern:sig:{app}:{ts}:{sign} string "" (a signed /v1/auth request used)  PX the ±skew span
 * tern:apps               hash    appId to app JSON (SRE-created apps):  no TTL; bounded (logic.apps-max);
 *                                  appKey, appSecret, clientKey (absent   read whole by the logic nodes and
 *                                  in apps made before client keys),      the dispatchers (AppRepository)
 *                                  createdAt, secretRotatedAt (epoch ms)
 * tern:app-limits         hash    appId to limits JSON (SRE overrides)   no TTL
 * tern:tasks:recent        zset    taskIds scored by creation ms          bounded (logic.recent-tasks);
 *                                  (the SRE console's recent tasks)       entries past retention are skipped
 * tern:tag:{app}:{tag}     set     regIds of the tag                      no TTL
 * tern:quota:{app}:{day}   string  pushes of the app that UTC day         PEXPIREAT day + 1
 * tern:rate:{app}          Redisson rate limiter of the app (Redisson tags its own keys)
 *
 * tag {node-ids:n}: a msgId node id (0..1023), lease and high-water mark written by one script
 * tern:{node-ids:n}        string  "logicId|token" of the node holding    PX lease TTL, renewed
 *                                  msgId node id n
 * tern:{node-ids:n}:hw     string  ms up to which a holder of id n may    no TTL (1,024 keys at most)
 *                                  have issued msgIds
 *
 * tags {callbacks}, {regions}, {rate}: small global documents, each group in one slot
 * tern:{callbacks}:due     zset    parked receipt ids scored by due ms    bounded (logic.callback.outbox-max)
 * tern:{callbacks}:items   hash    parked receipt id to ParkedReceipt     entries leave with their id in :due
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
 * </pre>
 * A device tag is whatever follows its first '{' up to the next '}': an appId or regId holding braces
 * still gives all of one device's keys the same tag.
 */
public final class Keys {
    private static final String P = "tern:";
    /** Shards of the delivery-check set: a fixed number, since a msgId's shard must not move. */
    public static final int REDELIVERY_SHARDS = 16;
    /** Separates appId and regId in a {@link #messageRef} value (not allowed in either). */
    public static final char REF_SEP = '\u001f';
    private static final DateTimeFormatter DAY = DateTimeFormatter.BASIC_ISO_DATE;

    private Keys() {
    }

    /** Receipts waiting for their callback POST, by due time (one hash tag: the outbox scripts touch both). */
    public static String callbacksDue() {
        return P + "{callbacks}:due";
    }

    public static String callbackItems() {
        return P + "{callbacks}:items";
    }

    private static String deviceTag(String appId, String regId) {
        return P + '{' + appId + ':' + regId + '}';
    }

    public static String route(String appId, String regId) {
        return deviceTag(appId, regId) + ":route";
    }

    public static String device(String appId, String regId) {
        return deviceTag(appId, regId) + ":device";
    }

    public static String queue(String appId, String regId) {
        return deviceTag(appId, regId) + ":queue";
    }

    /** A single-push message: in its device's slot, so the accept is one script. */
    public static String message(String appId, String regId, long msgId) {
        return deviceTag(appId, regId) + ":msg:" + msgId;
    }

    /** The single-push idempotency key of {@code requestId}: scoped to the device, in its slot. */
    public static String messageIdempotency(String appId, String regId, String requestId) {
        return deviceTag(appId, regId) + ":idem:" + requestId;
    }

    /** Where message {@code msgId} lives ({@code appId REF_SEP regId}), for reads by msgId alone. */
    public static String messageRef(long msgId) {
        return P + "msgref:" + msgId;
    }

    public static String brokers() {
        return P + "brokers";
    }

    public static String broker(String brokerId) {
        return P + "broker:" + brokerId;
    }

    /** Pub/sub channel of a broker's session evictions. */
    public static String brokerEvictions(String brokerId) {
        return P + "broker:" + brokerId + ":evict";
    }

    private static String taskTag(long taskId) {
        return P + "{t:" + taskId + '}';
    }

    public static String task(long taskId) {
        return taskTag(taskId);
    }

    /** Ids of the tag-push jobs of task {@code taskId} already fanned out. */
    public static String taskJobs(long taskId) {
        return taskTag(taskId) + ":jobs";
    }

    /** Apps created through the SRE admin API: appId to their JSON ({@code app.AppRepository}; used alone). */
    public static String apps() {
        return P + "apps";
    }

    /** Limits set through the SRE admin API, overriding the configured ones: appId to JSON (used alone). */
    public static String appLimits() {
        return P + "app-limits";
    }

    /** The newest tasks' ids, scored by creation time: what the SRE console lists (used alone: untagged). */
    public static String recentTasks() {
        return P + "tasks:recent";
    }

    /** The Bloom filter of the devices whose ack of broadcast task {@code taskId} was counted. */
    public static String taskAckFilter(long taskId) {
        return taskTag(taskId) + ":ackbf";
    }

    /**
     * The devices whose ack of broadcast task {@code taskId} (one without a callback) was counted: 8-byte device
     * hashes, appended ({@code CountedDevices}).
     */
    public static String taskAckSet(long taskId) {
        return taskTag(taskId) + ":ackset";
    }

    /** Tasks whose tag expression is being resolved, scored by their owner's lease end. */
    public static String resolvingTasks() {
        return P + "{resolving}";
    }

    /** Broadcasts whose fan-out to the brokers is unfinished, scored by their owner's lease end. */
    public static String fanoutTasks() {
        return P + "{fanout}";
    }

    /** The log of an app's broadcasts: zset of taskIds scored by broadcast sequence. */
    public static String broadcastLog(String appId) {
        return P + "{bcast:" + appId + "}:log";
    }

    /** The app's broadcast sequence counter. */
    public static String broadcastSeq(String appId) {
        return P + "{bcast:" + appId + "}:seq";
    }

    /** Devices of tag {@code tag} of the app. */
    public static String tag(String appId, String tag) {
        return P + "tag:" + appId + ':' + tag;
    }

    /** Scheduled tasks by sendAt. */
    public static String schedule() {
        return P + "{schedule}";
    }

    /** A scheduled task's firing (app, target, attempts, owner). */
    public static String scheduleEntry(long taskId) {
        return P + "{schedule}:" + taskId;
    }

    /** Redisson lock of a scheduled task's firing (Redisson tags its own keys). */
    public static String scheduleLock(long taskId) {
        return P + "{schedule}:lock:" + taskId;
    }

    /** The app's push count of one UTC day. */
    public static String quota(String appId, LocalDate utcDay) {
        return P + "quota:" + appId + ':' + DAY.format(utcDay);
    }

    /** The app's request rate limiter (a Redisson object name). */
    public static String rate(String appId) {
        return P + "rate:" + appId;
    }

    /** The lease of logic node id {@code nodeId}: who may issue msgIds with it. */
    public static String nodeIdLease(int nodeId) {
        return P + "{node-ids:" + nodeId + '}';
    }

    /** The last millisecond a holder of {@code nodeId} may have put into a msgId. */
    public static String nodeIdHighWater(int nodeId) {
        return P + "{node-ids:" + nodeId + "}:hw";
    }

    /** The delivery-check shard of {@code msgId} (0..{@value #REDELIVERY_SHARDS} - 1). */
    public static int redeliveryShard(long msgId) {
        // msgIds of one node differ mostly in their middle bits: mix them so every shard gets its share.
        return Math.floorMod((int) ((msgId * 0x9E3779B97F4A7C15L) >>> 32), REDELIVERY_SHARDS);
    }

    /** Shard {@code shard} of the single pushes due for a delivery check. */
    public static String redeliveryDue(int shard) {
        return P + "{redeliver:" + shard + '}';
    }

    /** Redeliveries so far of the checks in shard {@code shard}. */
    public static String redeliveryTries(int shard) {
        return P + "{redeliver:" + shard + "}:tries";
    }

    /** Idempotency of a call answered with more than a msgId (list push, task creation), per app and scope. */
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

    /** Each live obeyer's weight in the permit's split (see {@code PermitObeyers}); same slot as the obeyers. */
    public static String permitObeyerWeights() {
        return P + "{rate}:obeyer-weights";
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
