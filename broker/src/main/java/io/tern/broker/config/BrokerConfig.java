package io.tern.broker.config;

import io.tern.store.redis.RedisStore;
import io.tern.protocol.codec.FrameHeader;
import io.tern.protocol.frame.Frame;
import io.tern.protocol.link.LinkProof;
import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import io.tern.runtime.http.HttpLimits;
import io.tern.runtime.tls.TlsConfig;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The broker's configuration, read from {@link Settings} keys {@code broker.*} (environment
 * {@code TERN_BROKER_*}). Every default runs on one machine. Port 0 binds any free port (tests);
 * what the broker advertises always uses the ports actually bound.
 *
 * @param id               broker id in routes, the registry, logs and metric tags; default {@value #DEFAULT_ID}
 * @param region           region this broker serves; default {@value #DEFAULT_REGION}
 * @param host             default of every bind and advertised address ({@link Listeners}); default {@value #DEFAULT_HOST}
 * @param tcpPort          device TCP listener; default {@value #DEFAULT_TCP_PORT}
 * @param wsPort           device WebSocket listener (path /v1/ws); default {@value #DEFAULT_WS_PORT}
 * @param internalPort     push commands from logic nodes; default {@value #DEFAULT_INTERNAL_PORT}
 * @param adminPort        /metrics and /health; default {@value #DEFAULT_ADMIN_PORT}
 * @param ioThreads        event loop threads, 0 = one per core
 * @param redisUri         Redis holding routes, the registry and offline queues; default {@value #DEFAULT_REDIS_URI}
 * @param redisTimeout     per-command timeout; default 2s
 * @param kafkaBootstrap   Kafka for the ack topic; default {@value #DEFAULT_KAFKA_BOOTSTRAP}
 * @param tokenSecret      HMAC secret for connect tokens, at least 16 bytes, the same as the dispatchers'
 * @param handshakeTimeout a connection must send a valid CONNECT within this; default 10s
 * @param heartbeat        ping interval told to devices in CONNACK (whole seconds); default 30s
 * @param idleTimeout      a device silent this long is disconnected; must exceed heartbeat; default 90s
 * @param maxFrameBody     largest frame body accepted from a device; default {@value #DEFAULT_MAX_FRAME_BODY}
 * @param maxConnections   open device sockets (TCP + WebSocket) beyond which new ones get SERVER_BUSY; default {@value #DEFAULT_MAX_CONNECTIONS}
 * @param livenessInterval how often the registry key is refreshed; default 1s
 * @param livenessTtl      registry key TTL; must exceed the interval; default 3s
 * @param pendingLimit     most queued messages delivered when a device connects; default {@value #DEFAULT_PENDING_LIMIT}
 * @param ackQueueCapacity acks held until Kafka confirms them; when all places are taken a device that acks is not read
 *                         until half are free again (backpressure, nothing dropped); default {@value #DEFAULT_ACK_QUEUE_CAPACITY}
 * @param ackLinger        Kafka producer linger for the ack topic; default 50ms
 * @param shutdownDrain    how long shutdown waits for DISCONNECTs, route deletes and the ack flush; default 2s
 * @param broadcastChunk   connections one event-loop task writes a broadcast to before yielding; default {@value #DEFAULT_BROADCAST_CHUNK}
 * @param maxBroadcastsInFlight broadcasts one logic-node connection may have being written before the broker stops
 *                         reading it; default {@value #DEFAULT_MAX_BROADCASTS_IN_FLIGHT}
 * @param broadcastQueue   broadcasts being written on the whole broker at which it stops reading every logic-node
 *                         connection that sends one; also the most one event loop coalesces into one write per
 *                         connection; default {@value #DEFAULT_BROADCAST_QUEUE}
 * @param catchupLimit     most missed app broadcasts delivered when a device connects (0 = none); default {@value #DEFAULT_CATCHUP_LIMIT}
 * @param maxTagUpdatesInFlight tag writes (one per tag of a SUBSCRIBE / UNSUBSCRIBE) waiting for Redis beyond which
 *                         new ones are dropped; default {@value #DEFAULT_MAX_TAG_UPDATES_IN_FLIGHT}
 * @param ackCountCapacity broadcasts whose acks are counted at once (the most recent ones; 0 = every ack is published
 *                         per device); default {@value #DEFAULT_ACK_COUNT_CAPACITY}
 * @param ackCountWindow   how long after it started a broadcast's acks are counted; later ones go per device; default 60s
 * @param ackCountInterval how often the counts go to Kafka (the delay of a broadcast's delivered counter); must be
 *                         shorter than the window; default 100ms
 * @param devMode          {@code broker.dev-mode}, default false: only in dev mode may the development token secret be
 *                         used (anyone can forge connect tokens with it)
 * @param handshakeGuard   per-source limit of failed handshakes ({@code broker.failed-handshake-*})
 * @param adminHttpLimits  request deadline, keep-alive timeout and connection caps of the admin port
 *                         ({@code broker.http-*}, see {@link HttpLimits})
 * @param tls              TLS of the device (TCP, WebSocket) and internal ports, keys {@code broker.tls.*}: see
 *                         {@link TlsConfig}; with {@code broker.tls.ca} set the internal port requires a client
 *                         certificate signed by that CA (mutual TLS); default off
 * @param listeners        each listener's bind address and the addresses the registry advertises ({@link Listeners})
 * @param internalLink     how logic nodes authenticate on the internal port ({@link InternalLink})
 * @param ackTracking      which ACKs count ({@link AckTracking})
 * @param recovery         how devices stay routable through Redis outages ({@link Recovery})
 * @param broadcastParking broadcast copies kept for connections that are not writable ({@link BroadcastParking})
 * @param ackCountBuffer   {@code broker.ack-count-buffer}: acks of one counted broadcast kept between two count flushes
 *                         (8 bytes each, so up to ack-count-capacity × this × 8 bytes of heap); beyond it acks go per
 *                         device until the next flush; default
 *                         {@value #DEFAULT_ACK_COUNT_BUFFER}
 * @param ackCountRecordMax {@code broker.ack-count-record-max}: devices in one count record at most (16 hex digits
 *                         each; the consumer's script runs a record at a time, ~9 µs a device); default {@value #DEFAULT_ACK_COUNT_RECORD_MAX}
 * @param ackDelivery      how acks reach Kafka while it is down or slow ({@link AckDelivery})
 * @param regions          region moves and the admission rate ({@link Regions})
 * @param capacity         {@code broker.capacity}: deliveries per second (PUSH frames and broadcast copies written to
 *                         devices) this broker can take; reported in its registry heartbeat, where the rate controller
 *                         sums it per region and throttles at a share of it; default {@value #DEFAULT_CAPACITY}
 * @param storageOutage    serving devices through a Redis outage ({@link StorageOutage})
 * @param shutdownRedirect how a stopping broker sends its devices to its region's other brokers ({@link ShutdownRedirect})
 * @param broadcastDedupe  {@code broker.broadcast-dedupe}: app broadcasts the broker remembers having written (~150 bytes
 *                         each), so one sent again by a logic node (a retry, or a fan-out finished by another node) is
 *                         answered without writing it twice; 0 = none; default {@value #DEFAULT_BROADCAST_DEDUPE}
 * @param broadcastAcks    how devices may ack broadcast pushes several at a time ({@link BroadcastAcks})
 */
public record BrokerConfig(String id, String region, String host, int tcpPort, int wsPort, int internalPort,
                           int adminPort, int ioThreads, String redisUri, Duration redisTimeout,
                           String kafkaBootstrap, String tokenSecret, Duration handshakeTimeout,
                           Duration heartbeat, Duration idleTimeout, int maxFrameBody, int maxConnections,
                           Duration livenessInterval, Duration livenessTtl, int pendingLimit,
                           int ackQueueCapacity, Duration ackLinger, Duration shutdownDrain,
                           int broadcastChunk, int maxBroadcastsInFlight, int broadcastQueue, int catchupLimit,
                           int maxTagUpdatesInFlight, int ackCountCapacity, Duration ackCountWindow,
                           Duration ackCountInterval, boolean devMode, HandshakeGuard handshakeGuard,
                           HttpLimits adminHttpLimits, TlsConfig tls, Listeners listeners, InternalLink internalLink,
                           AckTracking ackTracking, Recovery recovery,
                           BroadcastParking broadcastParking, int ackCountBuffer, int ackCountRecordMax,
                           AckDelivery ackDelivery, Regions regions, int capacity, StorageOutage storageOutage,
                           ShutdownRedirect shutdownRedirect, int broadcastDedupe, BroadcastAcks broadcastAcks) {

    /**
     * Cumulative broadcast acks: a device whose SDK offers them (the ACKS flag in CONNECT) is told in CONNACK that it
     * may hold a broadcast push's ack up to {@code delay} and send up to {@code maxPerFrame} of them in one ACKS
     * frame, so the broker reads one frame per device per delay instead of one per broadcast.
     *
     * @param delay       how long a device may hold a broadcast's ack ({@code broker.broadcast-ack-delay}); 0 = every
     *                    push acked on its own, as older brokers do. Receipts and delivered counts of broadcasts come up
     *                    to this much later; default 500ms: longer than a fan-out to 10,000 devices (≈120–250 ms here),
     *                    so the acks are read after the copies are written instead of competing with them for the same
     *                    cores (docs/benchmarks.md, "H3: broadcast acks after the fan-out")
     * @param maxPerFrame most msgIds in one ACKS ({@code broker.max-acks-per-frame}); a device sends its held acks
     *                    as soon as it has this many; a longer ACKS is PROTOCOL_VIOLATION; default
     *                    {@value #DEFAULT_MAX_PER_FRAME}
     */
    public record BroadcastAcks(Duration delay, int maxPerFrame) {
        public static final Duration DEFAULT_DELAY = Duration.ofMillis(500);
        public static final int DEFAULT_MAX_PER_FRAME = 64;

        public BroadcastAcks {
            // CONNACK carries the delay as whole milliseconds in a u16.
            ConfigException.require(delay != null && !delay.isNegative()
                            && delay.toMillis() <= Frame.ConnAck.MAX_BROADCAST_ACK_DELAY_MS,
                    "broker.broadcast-ack-delay must be between 0 and " + Frame.ConnAck.MAX_BROADCAST_ACK_DELAY_MS
                            + "ms, got " + delay);
            ConfigException.require(maxPerFrame >= 1 && maxPerFrame <= Frame.Acks.MAX_IDS,
                    "broker.max-acks-per-frame must be between 1 and " + Frame.Acks.MAX_IDS + ", got " + maxPerFrame);
        }

        /** The delay as CONNACK carries it: 0 turns cumulative acks off. */
        public int delayMillis() {
            return (int) delay.toMillis();
        }

        static BroadcastAcks from(Settings s) {
            return new BroadcastAcks(s.duration("broker.broadcast-ack-delay", DEFAULT_DELAY),
                    s.integer("broker.max-acks-per-frame", DEFAULT_MAX_PER_FRAME));
        }
    }

    /**
     * A stopping broker's paced drain ({@code broker.shutdown-redirect-*}): REDIRECT SERVER_SHUTTING_DOWN to the
     * region's other live brokers at {@code ratePerSecond}, for at most {@code max}; the devices left then get
     * DISCONNECT SERVER_SHUTTING_DOWN and re-dispatch.
     *
     * @param ratePerSecond devices redirected per second ({@code broker.shutdown-redirect-rate}); default
     *                      {@value #DEFAULT_RATE}: half of one peer's default admission rate, so a single surviving
     *                      peer admits them without SERVER_BUSY
     * @param max           how long the drain may take ({@code broker.shutdown-redirect-max}); 0 = none (every
     *                      device gets DISCONNECT at once); default 20s, inside Kubernetes' default 30 s grace
     */
    public record ShutdownRedirect(int ratePerSecond, Duration max) {
        public static final int DEFAULT_RATE = 1000;
        public static final Duration DEFAULT_MAX = Duration.ofSeconds(20);

        public ShutdownRedirect {
            ConfigException.require(ratePerSecond >= 1 && ratePerSecond <= 1_000_000,
                    "broker.shutdown-redirect-rate must be between 1 and 1000000 per second, got " + ratePerSecond);
            requireBetween("broker.shutdown-redirect-max", max, Duration.ZERO, Duration.ofMinutes(10));
        }

        static ShutdownRedirect from(Settings s) {
            return new ShutdownRedirect(s.integer("broker.shutdown-redirect-rate", DEFAULT_RATE),
                    s.duration("broker.shutdown-redirect-max", DEFAULT_MAX));
        }
    }

    /**
     * Serving devices through a Redis outage ({@code broker.redis-outage-after}, {@code broker.disk-kv-*},
     * {@code broker.route-queue-capacity}).
     *
     * @param redisOutageAfter   Redis silent this long is an outage: connects skip the Redis route write (the route
     *                           still goes to tern.routes) and read the disk-KV queue; default 2s
     * @param diskKvUri          the disk KV (Kvrocks) holding messages queued during an outage for offline devices,
     *                           read on connect; empty = none ({@code broker.disk-kv-uri}); default empty
     * @param diskKvTimeout      per-command timeout of the disk KV ({@code broker.disk-kv-timeout}); default 1s
     * @param routeQueueCapacity route changes waiting for Kafka (tern.routes) beyond which new ones are dropped
     *                           and counted ({@code broker.route-queue-capacity}); default {@value #DEFAULT_ROUTE_QUEUE_CAPACITY}
     */
    public record StorageOutage(Duration redisOutageAfter, String diskKvUri, Duration diskKvTimeout,
                                int routeQueueCapacity) {
        public static final Duration DEFAULT_REDIS_OUTAGE_AFTER = Duration.ofSeconds(2);
        public static final Duration DEFAULT_DISK_KV_TIMEOUT = Duration.ofSeconds(1);
        public static final int DEFAULT_ROUTE_QUEUE_CAPACITY = 100_000;

        public StorageOutage {
            requireBetween("broker.redis-outage-after", redisOutageAfter, Duration.ofMillis(100), Duration.ofMinutes(1));
            ConfigException.require(diskKvUri != null && (diskKvUri.isEmpty() || RedisStore.isRedisUri(diskKvUri)),
                    "broker.disk-kv-uri must be empty or a redis:// URI, got '" + redactUri(diskKvUri) + "'");
            requireBetween("broker.disk-kv-timeout", diskKvTimeout, Duration.ofMillis(10), Duration.ofMinutes(1));
            ConfigException.require(routeQueueCapacity >= 1 && routeQueueCapacity <= 10_000_000,
                    "broker.route-queue-capacity must be between 1 and 10000000, got " + routeQueueCapacity);
        }

        static StorageOutage from(Settings s) {
            return new StorageOutage(s.duration("broker.redis-outage-after", DEFAULT_REDIS_OUTAGE_AFTER),
                    s.string("broker.disk-kv-uri", ""),
                    s.duration("broker.disk-kv-timeout", DEFAULT_DISK_KV_TIMEOUT),
                    s.integer("broker.route-queue-capacity", DEFAULT_ROUTE_QUEUE_CAPACITY));
        }

        /** Whether a disk KV is configured. */
        public boolean hasDiskKv() {
            return !diskKvUri.isEmpty();
        }

        @Override
        public String toString() {
            return "StorageOutage[redisOutageAfter=" + redisOutageAfter + ", diskKvUri=" + redactUri(diskKvUri)
                    + ", diskKvTimeout=" + diskKvTimeout + ", routeQueueCapacity=" + routeQueueCapacity + ']';
        }
    }

    /**
     * Per source address limit on failed handshakes ({@code broker.failed-handshake-*}): a source
     * that spends its burst is refused with SERVER_BUSY until tokens come back at {@code ratePerSecond}.
     *
     * @param ratePerSecond failed handshakes per second a source earns back; default 5
     * @param burst         failed handshakes a source may have in a row; default 20
     * @param sources       addresses remembered at once (least recently seen forgotten first); default 10000
     */
    public record HandshakeGuard(int ratePerSecond, int burst, int sources) {
        public static final int DEFAULT_RATE = 5;
        public static final int DEFAULT_BURST = 20;
        public static final int DEFAULT_SOURCES = 10_000;

        public HandshakeGuard {
            ConfigException.require(ratePerSecond >= 1 && ratePerSecond <= 1_000_000,
                    "broker.failed-handshake-rate must be between 1 and 1000000 per second, got " + ratePerSecond);
            ConfigException.require(burst >= 1 && burst <= 1_000_000,
                    "broker.failed-handshake-burst must be between 1 and 1000000, got " + burst);
            ConfigException.require(sources >= 1 && sources <= 10_000_000,
                    "broker.failed-handshake-sources must be between 1 and 10000000, got " + sources);
        }

        static HandshakeGuard from(Settings s) {
            return new HandshakeGuard(s.integer("broker.failed-handshake-rate", DEFAULT_RATE),
                    s.integer("broker.failed-handshake-burst", DEFAULT_BURST),
                    s.integer("broker.failed-handshake-sources", DEFAULT_SOURCES));
        }
    }

    public static final String DEFAULT_ID = "b1";
    public static final String DEFAULT_REGION = "local";
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_TCP_PORT = 9001;
    public static final int DEFAULT_WS_PORT = 9101;
    public static final int DEFAULT_INTERNAL_PORT = 9201;
    public static final int DEFAULT_ADMIN_PORT = 9301;
    public static final int DEFAULT_IO_THREADS = 0;
    public static final String DEFAULT_REDIS_URI = "redis://127.0.0.1:6390";
    public static final Duration DEFAULT_REDIS_TIMEOUT = Duration.ofSeconds(2);
    public static final String DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:9092";
    /** Dev only: production must set its own, shared with the dispatchers. */
    public static final String DEV_TOKEN_SECRET = "tern-dev-connect-token-secret";
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(90);
    public static final int DEFAULT_MAX_FRAME_BODY = FrameHeader.DEFAULT_MAX_BODY;
    /** Below the 20,000 open files one process may hold here, leaving room for Redis, Kafka and logic nodes. */
    public static final int DEFAULT_MAX_CONNECTIONS = 19_000;
    /** A killed broker leaves the registry within the TTL: dispatchers stop offering it within ~TTL + their refresh. */
    /** Half a second: the rate controller must see the deliveries within a second (its tick adds up to 250ms). */
    public static final Duration DEFAULT_LIVENESS_INTERVAL = Duration.ofMillis(500);
    public static final int DEFAULT_CAPACITY = 20_000;
    public static final Duration DEFAULT_LIVENESS_TTL = Duration.ofSeconds(3);
    public static final int DEFAULT_PENDING_LIMIT = 100;
    public static final int DEFAULT_ACK_QUEUE_CAPACITY = 100_000;
    /**
     * Kafka's cost is per request, so fewer, fuller requests; a single push's delivered status
     * (and its callback) may come up to this much later. 50 ms, not 20: the Kafka handlers' CPU
     * a single push nearly halves and the server's falls by a fifth (docs/benchmarks.md, "Single
     * push: a longer ack linger").
     */
    public static final Duration DEFAULT_ACK_LINGER = Duration.ofMillis(50);
    public static final Duration DEFAULT_SHUTDOWN_DRAIN = Duration.ofSeconds(2);
    /** Big enough to amortise the task, small enough that a loop's other work waits well under a millisecond. */
    public static final int DEFAULT_BROADCAST_CHUNK = 512;
    /** Far more than the broadcasts re-sent within a logic node's fan-out lease; ~1.5 MiB at most. */
    public static final int DEFAULT_BROADCAST_DEDUPE = 10_000;
    public static final int DEFAULT_MAX_BROADCASTS_IN_FLIGHT = 16;
    /** Each pending broadcast holds one encoded frame (at most max-frame-body): 64 of them are ~0.5 MiB at most. */
    public static final int DEFAULT_BROADCAST_QUEUE = 64;
    public static final int DEFAULT_CATCHUP_LIMIT = 100;
    public static final int DEFAULT_MAX_TAG_UPDATES_IN_FLIGHT = 10_000;
    /** Far more than the broadcasts one broker has in flight within a window; each costs ~200 bytes. */
    public static final int DEFAULT_ACK_COUNT_CAPACITY = 1024;
    /** Nearly every online device acks within seconds; stragglers and reconnects go per device. */
    public static final Duration DEFAULT_ACK_COUNT_WINDOW = Duration.ofSeconds(60);
    public static final Duration DEFAULT_ACK_COUNT_INTERVAL = Duration.ofMillis(100);
    public static final int DEFAULT_ACK_COUNT_BUFFER = 4096;
    public static final int DEFAULT_ACK_COUNT_RECORD_MAX = 256;

    /** Ids and region names: safe in logs, metric tags, Redis keys and routes ("brokerId|epoch"). */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    /**
     * Where each listener binds, and what the registry advertises: what dispatchers hand to
     * devices and what logic nodes dial. Every host defaults to {@code broker.host}, so one
     * setting still runs a broker on one machine; in production the internal (and admin) listener
     * binds a private address and the device ones a public one.
     *
     * @param tcpBind                device TCP listener's bind address ({@code broker.tcp-bind})
     * @param wsBind                 device WebSocket listener's bind address ({@code broker.ws-bind})
     * @param internalBind           logic nodes' listener ({@code broker.internal-bind}); keep it private
     * @param adminBind              /metrics and /health ({@code broker.admin-bind})
     * @param advertisedDeviceHost   host devices are sent to for TCP and WebSocket ({@code broker.advertised-device-host});
     *                               never a wildcard
     * @param advertisedInternalHost host logic nodes dial ({@code broker.advertised-internal-host}); never a wildcard
     */
    public record Listeners(String tcpBind, String wsBind, String internalBind, String adminBind,
                            String advertisedDeviceHost, String advertisedInternalHost) {
        private static final Set<String> WILDCARDS = Set.of("0.0.0.0", "::", "[::]", "*", "::0");

        public Listeners {
            requireHost("broker.tcp-bind", tcpBind);
            requireHost("broker.ws-bind", wsBind);
            requireHost("broker.internal-bind", internalBind);
            requireHost("broker.admin-bind", adminBind);
            requireHost("broker.advertised-device-host", advertisedDeviceHost);
            requireHost("broker.advertised-internal-host", advertisedInternalHost);
            ConfigException.require(!WILDCARDS.contains(advertisedDeviceHost),
                    "broker.advertised-device-host must be an address devices can reach, not the wildcard '"
                            + advertisedDeviceHost + "' (set it when broker.host or broker.tcp-bind is a wildcard)");
            ConfigException.require(!WILDCARDS.contains(advertisedInternalHost),
                    "broker.advertised-internal-host must be an address logic nodes can reach, not the wildcard '"
                            + advertisedInternalHost + "'");
        }

        /** Every listener on {@code host}, advertised as {@code host}. */
        public static Listeners allOn(String host) {
            return new Listeners(host, host, host, host, host, host);
        }

        static Listeners from(Settings s, String host) {
            return new Listeners(s.string("broker.tcp-bind", host), s.string("broker.ws-bind", host),
                    s.string("broker.internal-bind", host), s.string("broker.admin-bind", host),
                    s.string("broker.advertised-device-host", host), s.string("broker.advertised-internal-host", host));
        }

        private static void requireHost(String key, String host) {
            ConfigException.require(host != null && !host.isBlank() && host.indexOf(' ') < 0,
                    key + " must be a host name or address, got '" + host + "'");
        }
    }

    /**
     * The internal port's authentication: a logic node proves the cluster secret with an HMAC
     * over a fresh nonce before any command of it is read (protocol/README.md, "Internal links").
     *
     * @param clusterSecret shared by every broker and logic node, at least 16 bytes ({@code broker.cluster-secret});
     *                      default {@link LinkProof#DEV_CLUSTER_SECRET}, for development only
     * @param authTimeout   a link must authenticate within this ({@code broker.link-auth-timeout}); default 5s
     */
    public record InternalLink(String clusterSecret, Duration authTimeout) {
        public static final Duration DEFAULT_AUTH_TIMEOUT = Duration.ofSeconds(5);

        public InternalLink {
            ConfigException.require(clusterSecret != null
                            && clusterSecret.getBytes(StandardCharsets.UTF_8).length >= LinkProof.MIN_SECRET_BYTES,
                    "broker.cluster-secret must be at least " + LinkProof.MIN_SECRET_BYTES + " bytes");
            requireBetween("broker.link-auth-timeout", authTimeout, Duration.ofMillis(50), Duration.ofMinutes(1));
        }

        static InternalLink from(Settings s) {
            return new InternalLink(s.string("broker.cluster-secret", LinkProof.DEV_CLUSTER_SECRET),
                    s.duration("broker.link-auth-timeout", DEFAULT_AUTH_TIMEOUT));
        }

        public boolean usesDevSecret() {
            return LinkProof.DEV_CLUSTER_SECRET.equals(clusterSecret);
        }

        @Override
        public String toString() {
            return "InternalLink[clusterSecret=****, authTimeout=" + authTimeout + ']';
        }
    }

    /**
     * Which ACKs count: only of a msgId written to that connection and not yet acked. A connection
     * keeps its outstanding msgIds only while there are some.
     *
     * @param maxUnacked most msgIds one connection keeps outstanding; beyond it the oldest is
     *                   forgotten (its ACK is ignored, the message redelivered later). At least
     *                   pending-limit + catchup-limit, which a connect may write at once
     *                   ({@code broker.max-unacked}); default {@value #DEFAULT_MAX_UNACKED}
     */
    /**
     * How acks reach Kafka while it is down or slow: an ack is held (within {@code ack-queue-capacity}) and sent
     * again until Kafka confirms it.
     *
     * @param deliveryTimeout how long the producer tries one send before handing the ack back to be sent again
     *                        ({@code broker.ack-delivery-timeout}, Kafka's {@code delivery.timeout.ms}); must exceed
     *                        the linger; default 30s
     * @param retryBackoff    pause before acks Kafka did not take are sent again ({@code broker.ack-retry-backoff});
     *                        default 1s
     */
    public record AckDelivery(Duration deliveryTimeout, Duration retryBackoff) {
        public static final Duration DEFAULT_DELIVERY_TIMEOUT = Duration.ofSeconds(30);
        public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofSeconds(1);

        public AckDelivery {
            requireBetween("broker.ack-delivery-timeout", deliveryTimeout, Duration.ofSeconds(1), Duration.ofMinutes(30));
            requireBetween("broker.ack-retry-backoff", retryBackoff, Duration.ofMillis(1), Duration.ofMinutes(5));
        }

        static AckDelivery from(Settings s) {
            return new AckDelivery(s.duration("broker.ack-delivery-timeout", DEFAULT_DELIVERY_TIMEOUT),
                    s.duration("broker.ack-retry-backoff", DEFAULT_RETRY_BACKOFF));
        }
    }

    /**
     * Taking part in region moves the global scheduler orders, and the admission rate that keeps the
     * devices of a moving region from swamping this broker.
     *
     * @param policyPoll       how often the region policy is re-read besides its pub/sub announcement
     *                         ({@code broker.region-policy-poll}); default 500ms
     * @param admissionRate    valid CONNECTs admitted per second; beyond it SERVER_BUSY with a retry hint
     *                         ({@code broker.admission-rate}); 0 = uncapped; default {@value #DEFAULT_ADMISSION_RATE}
     * @param admissionBurst   CONNECTs admitted at once after a quiet spell ({@code broker.admission-burst}); default
     *                         {@value #DEFAULT_ADMISSION_BURST}
     * @param busyRetryHint    base of the retry hint of a refused CONNECT; each device is told a value drawn from
     *                         [hint, 2 × hint) ({@code broker.busy-retry-hint}); default 1s
     * @param registryRefresh  how often the live brokers are re-read, to know this broker's share of a move's rate
     *                         ({@code broker.region-registry-refresh}); default 1s
     * @param redirectBatchMax most REDIRECTs one move tick sends ({@code broker.redirect-batch-max}); default
     *                         {@value #DEFAULT_REDIRECT_BATCH_MAX}
     * @param moveTick         how often the mover sends its share of redirects, spreading each second's
     *                         ({@code broker.region-move-tick}); default 100ms
     * @param maxHomes         home regions counted apart in the registry and metrics; beyond, "other"
     *                         ({@code broker.region-homes-max}); default {@value #DEFAULT_MAX_HOMES}
     * @param connectSamples   accept-to-CONNACK latencies kept for the reported p99 ({@code broker.connect-samples});
     *                         default {@value #DEFAULT_CONNECT_SAMPLES}
     * @param connectWindow    how far back the reported p99 looks ({@code broker.connect-window}); default 5s
     */
    public record Regions(Duration policyPoll, int admissionRate, int admissionBurst, Duration busyRetryHint,
                          Duration registryRefresh, int redirectBatchMax, Duration moveTick, int maxHomes,
                          int connectSamples, Duration connectWindow) {
        public static final Duration DEFAULT_POLICY_POLL = Duration.ofMillis(500);
        /** Far above a steady state; what a target broker takes while a region's devices arrive. */
        public static final int DEFAULT_ADMISSION_RATE = 2000;
        public static final int DEFAULT_ADMISSION_BURST = 200;
        public static final Duration DEFAULT_BUSY_RETRY_HINT = Duration.ofSeconds(1);
        public static final Duration DEFAULT_REGISTRY_REFRESH = Duration.ofSeconds(1);
        public static final int DEFAULT_REDIRECT_BATCH_MAX = 500;
        public static final Duration DEFAULT_MOVE_TICK = Duration.ofMillis(100);
        public static final int DEFAULT_MAX_HOMES = 256;
        /** 8 bytes each: 32 KiB. */
        public static final int DEFAULT_CONNECT_SAMPLES = 4096;
        public static final Duration DEFAULT_CONNECT_WINDOW = Duration.ofSeconds(5);

        public Regions {
            requireBetween("broker.region-policy-poll", policyPoll, Duration.ofMillis(10), Duration.ofMinutes(1));
            ConfigException.require(admissionRate >= 0 && admissionRate <= 1_000_000,
                    "broker.admission-rate must be between 0 (uncapped) and 1000000 per second, got " + admissionRate);
            ConfigException.require(admissionBurst >= 1 && admissionBurst <= 1_000_000,
                    "broker.admission-burst must be between 1 and 1000000, got " + admissionBurst);
            requireBetween("broker.busy-retry-hint", busyRetryHint, Duration.ofMillis(1), Duration.ofMinutes(5));
            requireBetween("broker.region-registry-refresh", registryRefresh, Duration.ofMillis(10), Duration.ofMinutes(1));
            ConfigException.require(redirectBatchMax >= 1 && redirectBatchMax <= 100_000,
                    "broker.redirect-batch-max must be between 1 and 100000, got " + redirectBatchMax);
            requireBetween("broker.region-move-tick", moveTick, Duration.ofMillis(1), Duration.ofSeconds(1));
            ConfigException.require(maxHomes >= 1 && maxHomes <= 10_000,
                    "broker.region-homes-max must be between 1 and 10000, got " + maxHomes);
            ConfigException.require(connectSamples >= 1 && connectSamples <= 1 << 20,
                    "broker.connect-samples must be between 1 and 1048576, got " + connectSamples);
            requireBetween("broker.connect-window", connectWindow, Duration.ofMillis(100), Duration.ofMinutes(10));
        }

        static Regions from(Settings s) {
            return new Regions(s.duration("broker.region-policy-poll", DEFAULT_POLICY_POLL),
                    s.integer("broker.admission-rate", DEFAULT_ADMISSION_RATE),
                    s.integer("broker.admission-burst", DEFAULT_ADMISSION_BURST),
                    s.duration("broker.busy-retry-hint", DEFAULT_BUSY_RETRY_HINT),
                    s.duration("broker.region-registry-refresh", DEFAULT_REGISTRY_REFRESH),
                    s.integer("broker.redirect-batch-max", DEFAULT_REDIRECT_BATCH_MAX),
                    s.duration("broker.region-move-tick", DEFAULT_MOVE_TICK),
                    s.integer("broker.region-homes-max", DEFAULT_MAX_HOMES),
                    s.integer("broker.connect-samples", DEFAULT_CONNECT_SAMPLES),
                    s.duration("broker.connect-window", DEFAULT_CONNECT_WINDOW));
        }
    }

    public record AckTracking(int maxUnacked) {
        public static final int DEFAULT_MAX_UNACKED = 256;

        public AckTracking {
            ConfigException.require(maxUnacked >= 1 && maxUnacked <= 100_000,
                    "broker.max-unacked must be between 1 and 100000, got " + maxUnacked);
        }

        static AckTracking from(Settings s) {
            return new AckTracking(s.integer("broker.max-unacked", DEFAULT_MAX_UNACKED));
        }
    }

    /**
     * Keeping devices routable through Redis outages ({@code broker.redis-reconnect-max},
     * {@code broker.route-write-*}, {@code broker.route-restore-*}).
     *
     * @param redisReconnectMax  longest pause between attempts to reconnect to Redis (exponential from 10ms); default 500ms
     * @param routeWriteAttempts tries of a connecting device's route write; after the last failure the device is
     *                           disconnected with SERVER_BUSY so it reconnects, rather than stay connected but
     *                           unreachable; default {@value #DEFAULT_ROUTE_WRITE_ATTEMPTS}
     * @param routeWriteBackoff  pause before the second try, doubled before each further one; default 250ms
     * @param restoreBatch       routes re-written at once when Redis comes back (then each session's offline queue
     *                           is delivered); default {@value #DEFAULT_RESTORE_BATCH}
     * @param restoreRate        most routes re-written per second after an outage; default {@value #DEFAULT_RESTORE_RATE}
     */
    public record Recovery(Duration redisReconnectMax, int routeWriteAttempts, Duration routeWriteBackoff,
                           int restoreBatch, int restoreRate) {
        public static final Duration DEFAULT_REDIS_RECONNECT_MAX = Duration.ofMillis(500);
        public static final int DEFAULT_ROUTE_WRITE_ATTEMPTS = 5;
        public static final Duration DEFAULT_ROUTE_WRITE_BACKOFF = Duration.ofMillis(250);
        public static final int DEFAULT_RESTORE_BATCH = 500;
        public static final int DEFAULT_RESTORE_RATE = 20_000;

        public Recovery {
            requireBetween("broker.redis-reconnect-max", redisReconnectMax, Duration.ofMillis(10), Duration.ofSeconds(30));
            ConfigException.require(routeWriteAttempts >= 1 && routeWriteAttempts <= 20,
                    "broker.route-write-attempts must be between 1 and 20, got " + routeWriteAttempts);
            requireBetween("broker.route-write-backoff", routeWriteBackoff, Duration.ofMillis(1), Duration.ofSeconds(10));
            ConfigException.require(restoreBatch >= 1 && restoreBatch <= 10_000,
                    "broker.route-restore-batch must be between 1 and 10000, got " + restoreBatch);
            ConfigException.require(restoreRate >= restoreBatch && restoreRate <= 1_000_000,
                    "broker.route-restore-rate must be between broker.route-restore-batch and 1000000 per second, got "
                            + restoreRate);
        }

        static Recovery from(Settings s) {
            return new Recovery(s.duration("broker.redis-reconnect-max", DEFAULT_REDIS_RECONNECT_MAX),
                    s.integer("broker.route-write-attempts", DEFAULT_ROUTE_WRITE_ATTEMPTS),
                    s.duration("broker.route-write-backoff", DEFAULT_ROUTE_WRITE_BACKOFF),
                    s.integer("broker.route-restore-batch", DEFAULT_RESTORE_BATCH),
                    s.integer("broker.route-restore-rate", DEFAULT_RESTORE_RATE));
        }
    }

    /**
     * A connection that is not writable during a broadcast gets its copies once it drains, instead of missing them
     * until its next reconnect.
     *
     * @param perConnection copies kept per connection ({@code broker.broadcast-park-per-connection}); 0 skips such
     *                      connections (counted); default {@value #DEFAULT_PER_CONNECTION}
     * @param connections   connections per event loop holding parked copies at once; beyond it copies are skipped
     *                      ({@code broker.broadcast-park-connections}); default {@value #DEFAULT_CONNECTIONS}
     * @param retry         how often a loop looks whether its parked connections drained
     *                      ({@code broker.broadcast-park-retry}); default 50ms
     */
    public record BroadcastParking(int perConnection, int connections, Duration retry) {
        public static final int DEFAULT_PER_CONNECTION = 16;
        public static final int DEFAULT_CONNECTIONS = 10_000;

        public BroadcastParking {
            ConfigException.require(perConnection >= 0 && perConnection <= 1_000,
                    "broker.broadcast-park-per-connection must be between 0 and 1000, got " + perConnection);
            ConfigException.require(connections >= 1 && connections <= 1_000_000,
                    "broker.broadcast-park-connections must be between 1 and 1000000, got " + connections);
            ConfigException.require(retry != null && retry.toMillis() >= 1 && retry.toSeconds() <= 10,
                    "broker.broadcast-park-retry must be between 1ms and 10s, got " + retry);
        }

        static BroadcastParking from(Settings s) {
            return new BroadcastParking(s.integer("broker.broadcast-park-per-connection", DEFAULT_PER_CONNECTION),
                    s.integer("broker.broadcast-park-connections", DEFAULT_CONNECTIONS),
                    s.duration("broker.broadcast-park-retry", Duration.ofMillis(50)));
        }
    }

    public BrokerConfig {
        ConfigException.require(id != null && NAME.matcher(id).matches(),
                "broker.id must match " + NAME + ", got '" + id + "'");
        ConfigException.require(region != null && NAME.matcher(region).matches(),
                "broker.region must match " + NAME + ", got '" + region + "'");
        ConfigException.require(host != null && !host.isBlank() && host.indexOf(' ') < 0,
                "broker.host must be a host name or address, got '" + host + "'");
        requirePort("broker.tcp-port", tcpPort);
        requirePort("broker.ws-port", wsPort);
        requirePort("broker.internal-port", internalPort);
        requirePort("broker.admin-port", adminPort);
        Set<Integer> fixed = new HashSet<>();
        for (int p : new int[]{tcpPort, wsPort, internalPort, adminPort}) {
            ConfigException.require(p == 0 || fixed.add(p),
                    "broker.tcp-port, ws-port, internal-port and admin-port must differ, got " + p + " twice");
        }
        ConfigException.require(ioThreads >= 0 && ioThreads <= 256,
                "broker.io-threads must be between 0 (one per core) and 256, got " + ioThreads);
        ConfigException.require(RedisStore.isRedisUri(redisUri),
                "broker.redis-uri must be a redis://, rediss:// or redis-cluster:// URI, got '" + redactUri(redisUri) + "'");
        requireBetween("broker.redis-timeout", redisTimeout, Duration.ofMillis(10), Duration.ofMinutes(1));
        ConfigException.require(kafkaBootstrap != null && !kafkaBootstrap.isBlank(),
                "broker.kafka-bootstrap must list host:port pairs");
        ConfigException.require(tokenSecret != null && tokenSecret.getBytes(StandardCharsets.UTF_8).length >= 16,
                "broker.token-secret must be at least 16 bytes");
        requireBetween("broker.handshake-timeout", handshakeTimeout, Duration.ofMillis(50), Duration.ofMinutes(5));
        // CONNACK carries the heartbeat as whole seconds in a u16.
        requireBetween("broker.heartbeat", heartbeat, Duration.ofSeconds(1), Duration.ofSeconds(0xFFFF));
        requireBetween("broker.idle-timeout", idleTimeout, Duration.ofMillis(100), Duration.ofDays(1));
        ConfigException.require(idleTimeout.compareTo(heartbeat) > 0,
                "broker.idle-timeout (" + idleTimeout + ") must be longer than broker.heartbeat (" + heartbeat + ")");
        ConfigException.require(maxFrameBody >= 64 && maxFrameBody <= FrameHeader.ABSOLUTE_MAX_BODY,
                "broker.max-frame-body must be between 64 and " + FrameHeader.ABSOLUTE_MAX_BODY + ", got " + maxFrameBody);
        ConfigException.require(maxConnections >= 1 && maxConnections <= 10_000_000,
                "broker.max-connections must be between 1 and 10000000, got " + maxConnections);
        requireBetween("broker.liveness-interval", livenessInterval, Duration.ofMillis(50), Duration.ofMinutes(5));
        requireBetween("broker.liveness-ttl", livenessTtl, Duration.ofMillis(100), Duration.ofMinutes(30));
        ConfigException.require(livenessTtl.compareTo(livenessInterval) > 0,
                "broker.liveness-ttl (" + livenessTtl + ") must be longer than broker.liveness-interval (" + livenessInterval + ")");
        ConfigException.require(pendingLimit >= 0 && pendingLimit <= 10_000,
                "broker.pending-limit must be between 0 and 10000, got " + pendingLimit);
        ConfigException.require(ackQueueCapacity >= 1 && ackQueueCapacity <= 10_000_000,
                "broker.ack-queue-capacity must be between 1 and 10000000, got " + ackQueueCapacity);
        requireBetween("broker.ack-linger", ackLinger, Duration.ZERO, Duration.ofSeconds(10));
        requireBetween("broker.shutdown-drain", shutdownDrain, Duration.ZERO, Duration.ofMinutes(5));
        ConfigException.require(broadcastChunk >= 1 && broadcastChunk <= 100_000,
                "broker.broadcast-chunk must be between 1 and 100000, got " + broadcastChunk);
        ConfigException.require(maxBroadcastsInFlight >= 1 && maxBroadcastsInFlight <= 1000,
                "broker.max-broadcasts-in-flight must be between 1 and 1000, got " + maxBroadcastsInFlight);
        ConfigException.require(broadcastQueue >= 1 && broadcastQueue <= 10_000,
                "broker.broadcast-queue must be between 1 and 10000, got " + broadcastQueue);
        ConfigException.require(catchupLimit >= 0 && catchupLimit <= 10_000,
                "broker.catchup-limit must be between 0 and 10000, got " + catchupLimit);
        ConfigException.require(maxTagUpdatesInFlight >= 64 && maxTagUpdatesInFlight <= 10_000_000,
                "broker.max-tag-updates-in-flight must be between 64 and 10000000, got " + maxTagUpdatesInFlight);
        ConfigException.require(ackCountCapacity >= 0 && ackCountCapacity <= 100_000,
                "broker.ack-count-capacity must be between 0 (off) and 100000, got " + ackCountCapacity);
        requireBetween("broker.ack-count-window", ackCountWindow, Duration.ofSeconds(1), Duration.ofHours(1));
        requireBetween("broker.ack-count-interval", ackCountInterval, Duration.ofMillis(10), Duration.ofMinutes(1));
        ConfigException.require(ackCountInterval.compareTo(ackCountWindow) < 0,
                "broker.ack-count-interval (" + ackCountInterval + ") must be shorter than broker.ack-count-window ("
                        + ackCountWindow + ")");
        ConfigException.require(devMode || !DEV_TOKEN_SECRET.equals(tokenSecret),
                "broker.token-secret is the development secret, which anyone can use to forge connect tokens: "
                        + "set the dispatchers' secret (TERN_BROKER_TOKEN_SECRET), or broker.dev-mode=true on a dev machine");
        ConfigException.require(handshakeGuard != null, "broker.failed-handshake-* must be set");
        ConfigException.require(adminHttpLimits != null, "broker.http-* must be set");
        ConfigException.require(tls != null, "broker.tls must be set (TlsConfig.OFF for none)");
        ConfigException.require(listeners != null, "broker listeners are required");
        ConfigException.require(internalLink != null, "broker internal link settings are required");
        ConfigException.require(ackTracking != null, "broker ack tracking settings are required");
        ConfigException.require(recovery != null, "broker recovery settings are required");
        ConfigException.require(broadcastParking != null, "broker broadcast parking settings are required");
        ConfigException.require(ackCountBuffer >= 1 && ackCountBuffer <= 1 << 22,
                "broker.ack-count-buffer must be in [1, 4194304], got " + ackCountBuffer);
        ConfigException.require(ackCountRecordMax >= 1 && ackCountRecordMax <= 16_384,
                "broker.ack-count-record-max must be in [1, 16384], got " + ackCountRecordMax);
        ConfigException.require(ackDelivery != null, "broker ack delivery settings are required");
        ConfigException.require(regions != null, "broker region settings are required");
        ConfigException.require(storageOutage != null, "broker storage outage settings are required");
        ConfigException.require(shutdownRedirect != null, "broker shutdown redirect settings are required");
        ConfigException.require(capacity >= 1 && capacity <= 10_000_000,
                "broker.capacity must be between 1 and 10000000 deliveries/s, got " + capacity);
        ConfigException.require(broadcastDedupe >= 0 && broadcastDedupe <= 1_000_000,
                "broker.broadcast-dedupe must be between 0 and 1000000, got " + broadcastDedupe);
        ConfigException.require(ackDelivery.deliveryTimeout().compareTo(ackLinger.plusSeconds(1)) >= 0,
                "broker.ack-delivery-timeout must be at least broker.ack-linger + 1s");
        ConfigException.require(ackTracking.maxUnacked() >= pendingLimit + catchupLimit,
                "broker.max-unacked (" + ackTracking.maxUnacked() + ") must be at least broker.pending-limit + "
                        + "broker.catchup-limit (" + (pendingLimit + catchupLimit) + "): a connect may write that many");
        ConfigException.require(broadcastAcks != null, "broker broadcast ack settings are required");
        ConfigException.require(2 + 8 * broadcastAcks.maxPerFrame() <= maxFrameBody,
                "broker.max-acks-per-frame (" + broadcastAcks.maxPerFrame() + ") must fit broker.max-frame-body ("
                        + maxFrameBody + "): 2 + 8 bytes per msgId");
        ConfigException.require(broadcastAcks.delayMillis() == 0 || ackTracking.maxUnacked() >= 2 * broadcastAcks.maxPerFrame(),
                "broker.max-unacked (" + ackTracking.maxUnacked() + ") must be at least twice broker.max-acks-per-frame ("
                        + broadcastAcks.maxPerFrame() + "): a device may hold that many acks while as many more pushes "
                        + "are on their way, and an ack of a forgotten msgId is ignored");
        ConfigException.require(devMode || !internalLink.usesDevSecret(),
                "broker.cluster-secret is the development secret, which anyone can use to send push commands to the "
                        + "internal port: set the logic nodes' secret (TERN_BROKER_CLUSTER_SECRET), or broker.dev-mode=true "
                        + "on a dev machine");
    }

    /** Every default, in dev mode: outside it the default (development) token secret is refused. */
    public static BrokerConfig defaults() {
        return from(Settings.of(Map.of("broker.dev-mode", "true")));
    }

    public static BrokerConfig from(Settings s) {
        boolean devMode = s.bool("broker.dev-mode", false);
        String host = s.string("broker.host", DEFAULT_HOST);
        BrokerConfig c = new BrokerConfig(
                s.string("broker.id", DEFAULT_ID),
                s.string("broker.region", DEFAULT_REGION),
                host,
                s.integer("broker.tcp-port", DEFAULT_TCP_PORT),
                s.integer("broker.ws-port", DEFAULT_WS_PORT),
                s.integer("broker.internal-port", DEFAULT_INTERNAL_PORT),
                s.integer("broker.admin-port", DEFAULT_ADMIN_PORT),
                s.integer("broker.io-threads", DEFAULT_IO_THREADS),
                s.string("broker.redis-uri", DEFAULT_REDIS_URI),
                s.duration("broker.redis-timeout", DEFAULT_REDIS_TIMEOUT),
                s.string("broker.kafka-bootstrap", DEFAULT_KAFKA_BOOTSTRAP),
                s.string("broker.token-secret", DEV_TOKEN_SECRET),
                s.duration("broker.handshake-timeout", DEFAULT_HANDSHAKE_TIMEOUT),
                s.duration("broker.heartbeat", DEFAULT_HEARTBEAT),
                s.duration("broker.idle-timeout", DEFAULT_IDLE_TIMEOUT),
                s.integer("broker.max-frame-body", DEFAULT_MAX_FRAME_BODY),
                s.integer("broker.max-connections", DEFAULT_MAX_CONNECTIONS),
                s.duration("broker.liveness-interval", DEFAULT_LIVENESS_INTERVAL),
                s.duration("broker.liveness-ttl", DEFAULT_LIVENESS_TTL),
                s.integer("broker.pending-limit", DEFAULT_PENDING_LIMIT),
                s.integer("broker.ack-queue-capacity", DEFAULT_ACK_QUEUE_CAPACITY),
                s.duration("broker.ack-linger", DEFAULT_ACK_LINGER),
                s.duration("broker.shutdown-drain", DEFAULT_SHUTDOWN_DRAIN),
                s.integer("broker.broadcast-chunk", DEFAULT_BROADCAST_CHUNK),
                s.integer("broker.max-broadcasts-in-flight", DEFAULT_MAX_BROADCASTS_IN_FLIGHT),
                s.integer("broker.broadcast-queue", DEFAULT_BROADCAST_QUEUE),
                s.integer("broker.catchup-limit", DEFAULT_CATCHUP_LIMIT),
                s.integer("broker.max-tag-updates-in-flight", DEFAULT_MAX_TAG_UPDATES_IN_FLIGHT),
                s.integer("broker.ack-count-capacity", DEFAULT_ACK_COUNT_CAPACITY),
                s.duration("broker.ack-count-window", DEFAULT_ACK_COUNT_WINDOW),
                s.duration("broker.ack-count-interval", DEFAULT_ACK_COUNT_INTERVAL),
                devMode,
                HandshakeGuard.from(s),
                HttpLimits.from(s, "broker"),
                TlsConfig.from(s, "broker", devMode),
                Listeners.from(s, host),
                InternalLink.from(s),
                AckTracking.from(s),
                Recovery.from(s),
                BroadcastParking.from(s),
                s.integer("broker.ack-count-buffer", DEFAULT_ACK_COUNT_BUFFER),
                s.integer("broker.ack-count-record-max", DEFAULT_ACK_COUNT_RECORD_MAX),
                AckDelivery.from(s),
                Regions.from(s),
                s.integer("broker.capacity", DEFAULT_CAPACITY),
                StorageOutage.from(s),
                ShutdownRedirect.from(s),
                s.integer("broker.broadcast-dedupe", DEFAULT_BROADCAST_DEDUPE),
                BroadcastAcks.from(s));
        s.warnUnread("broker.");
        return c;
    }

    /** Worker threads to start: {@link #ioThreads()}, or one per core when 0. */
    public int effectiveIoThreads() {
        return ioThreads > 0 ? ioThreads : Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** The heartbeat as CONNACK carries it. */
    public int heartbeatSeconds() {
        return (int) heartbeat.toSeconds();
    }

    public boolean usesDevTokenSecret() {
        return DEV_TOKEN_SECRET.equals(tokenSecret);
    }

    private static void requirePort(String key, int port) {
        ConfigException.require(port >= 0 && port <= 65535, key + " must be between 0 (any free port) and 65535, got " + port);
    }

    private static void requireBetween(String key, Duration d, Duration min, Duration max) {
        ConfigException.require(d != null && d.compareTo(min) >= 0 && d.compareTo(max) <= 0,
                key + " must be between " + min + " and " + max + ", got " + d);
    }

    /** A Redis URI may carry a password as user info. */
    private static String redactUri(String uri) {
        return uri == null ? null : uri.replaceFirst("//[^/@]*@", "//****@");
    }

    /** Never prints the secret or a Redis password, whatever characters they hold. */
    @Override
    public String toString() {
        return "BrokerConfig[id=" + id + ", region=" + region + ", host=" + host + ", tcpPort=" + tcpPort
                + ", wsPort=" + wsPort + ", internalPort=" + internalPort + ", adminPort=" + adminPort
                + ", ioThreads=" + ioThreads + ", redisUri=" + redactUri(redisUri) + ", redisTimeout=" + redisTimeout
                + ", kafkaBootstrap=" + kafkaBootstrap + ", tokenSecret=****, handshakeTimeout=" + handshakeTimeout
                + ", heartbeat=" + heartbeat + ", idleTimeout=" + idleTimeout + ", maxFrameBody=" + maxFrameBody
                + ", maxConnections=" + maxConnections + ", livenessInterval=" + livenessInterval
                + ", livenessTtl=" + livenessTtl + ", pendingLimit=" + pendingLimit
                + ", ackQueueCapacity=" + ackQueueCapacity + ", ackLinger=" + ackLinger
                + ", shutdownDrain=" + shutdownDrain + ", broadcastChunk=" + broadcastChunk
                + ", maxBroadcastsInFlight=" + maxBroadcastsInFlight + ", broadcastQueue=" + broadcastQueue
                + ", catchupLimit=" + catchupLimit
                + ", maxTagUpdatesInFlight=" + maxTagUpdatesInFlight + ", ackCountCapacity=" + ackCountCapacity
                + ", ackCountWindow=" + ackCountWindow + ", ackCountInterval=" + ackCountInterval
                + ", devMode=" + devMode
                + ", handshakeGuard=" + handshakeGuard + ", adminHttpLimits=" + adminHttpLimits + ", tls=" + tls
                + ", listeners=" + listeners + ", internalLink=" + internalLink + ", ackTracking=" + ackTracking
                + ", recovery=" + recovery + ", broadcastParking=" + broadcastParking
                + ", ackCountBuffer=" + ackCountBuffer + ", ackCountRecordMax=" + ackCountRecordMax
                + ", ackDelivery=" + ackDelivery + ", regions=" + regions + ", capacity=" + capacity
                + ", storageOutage=" + storageOutage + ", shutdownRedirect=" + shutdownRedirect
                + ", broadcastDedupe=" + broadcastDedupe + ", broadcastAcks=" + broadcastAcks + ']';
    }
}
