package io.tern.dispatcher.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.dispatcher.allocation.BrokerAllocator;
import io.tern.dispatcher.identity.DeviceIdentity;
import io.tern.store.registry.BrokerSnapshot;
import io.tern.protocol.token.ConnectToken;
import io.tern.protocol.token.ConnectTokenSigner;
import io.tern.protocol.websocket.WebSocketFrameAdapters;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpRequest;
import io.tern.runtime.http.HttpResponse;
import io.tern.runtime.http.Route;
import io.tern.store.region.RegionPolicy;
import io.tern.store.registry.BrokerInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * {@code GET /v1/dispatch?appId=..&regId=..&ts=..&sign=..[&region=..]}. Runs on the HTTP event loop: it
 * checks the device's signature (two HMACs), reads the in-memory broker snapshot and signs a token, so it
 * never blocks. Only a device holding the secret the platform issued for this regId gets a token.
 */
public final class DispatchHandler implements Route.Handler {
    private static final Logger log = LoggerFactory.getLogger(DispatchHandler.class);
    public static final String PATH = "/v1/dispatch";
    /** appId and regId as the platform accepts them everywhere (route keys, token claims). */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    public static final Pattern REGION = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    // The token carries its own expiry; no cache may hand it to another device.
    private static final Map<String, String> NO_STORE = Map.of("Cache-Control", "no-store");

    private final Supplier<BrokerSnapshot> snapshots;
    private final Supplier<RegionPolicy> policy;
    private final MeterRegistry registry;
    /** Dispatches by the region of the first broker offered; regions are few (the registry's). */
    private final ConcurrentHashMap<String, Counter> servedBy = new ConcurrentHashMap<>();
    private final DeviceIdentity identity;
    private final ConnectTokenSigner signer;
    private final Clock clock;
    private final String defaultRegion;
    private final int maxHomeBrokers;
    private final int loadBucket;
    private final long tokenTtlMillis;
    private final String prefix;
    private final Map<DispatchOutcome, Counter> outcomes = new EnumMap<>(DispatchOutcome.class);

    /** @param policy the region policy's in-memory copy: who serves each home region, which regions are emptied */
    public DispatchHandler(Supplier<BrokerSnapshot> snapshots, Supplier<RegionPolicy> policy, DeviceIdentity identity,
                           ConnectTokenSigner signer, Clock clock, String defaultRegion, int maxHomeBrokers, int loadBucket,
                           Duration tokenTtl, MeterRegistry registry, String instanceId) {
        this.snapshots = snapshots;
        this.policy = policy;
        this.registry = registry;
        this.identity = identity;
        this.signer = signer;
        this.clock = clock;
        this.defaultRegion = defaultRegion;
        this.maxHomeBrokers = maxHomeBrokers;
        this.loadBucket = loadBucket;
        this.tokenTtlMillis = tokenTtl.toMillis();
        this.prefix = "dispatcher " + instanceId;
        for (DispatchOutcome o : DispatchOutcome.values()) {
            outcomes.put(o, Counter.builder("dispatcher.dispatches")
                    .description("Dispatch requests by outcome")
                    .tag("outcome", o.code())
                    .register(registry));
        }
    }

    @Override
    public CompletableFuture<HttpResponse> handle(HttpRequest request) {
        try {
            return CompletableFuture.completedFuture(dispatch(request));
        } catch (ApiException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** @throws ApiException 400 {@code invalid_field}, 401 {@code unauthorized} or 503 {@code no_brokers} */
    public HttpResponse dispatch(HttpRequest request) {
        String appId = required(request, "appId", ID);
        String regId = required(request, "regId", ID);
        authenticate(request, appId, regId);
        String region = request.queryParam("region");
        String homeRegion;
        if (region == null || region.isEmpty()) {
            homeRegion = defaultRegion;
        } else if (REGION.matcher(region).matches()) {
            homeRegion = region;
        } else {
            throw fail(DispatchOutcome.INVALID_FIELD, "region must match " + REGION.pattern(), "region");
        }

        // The token keeps the home region whoever serves it: brokers count and move devices by it.
        List<BrokerInfo> picked = BrokerAllocator.allocate(snapshots.get().brokers(), policy.get(), homeRegion, regId,
                maxHomeBrokers, loadBucket);
        if (picked.isEmpty()) {
            log.debug("[{} reg={}] no live broker to offer", prefix, regId);
            throw fail(DispatchOutcome.NO_BROKERS, "no broker is available; retry with backoff", null);
        }
        List<String> tcp = new ArrayList<>(picked.size());
        List<String> ws = new ArrayList<>(picked.size());
        for (BrokerInfo b : picked) {
            tcp.add(b.tcpAddress());
            String w = wsUrl(b.wsAddress());
            if (w != null) {
                ws.add(w);
            }
        }
        long expiresAt = clock.millis() + tokenTtlMillis;
        String token = signer.sign(new ConnectToken(appId, regId, homeRegion, expiresAt));
        outcomes.get(DispatchOutcome.OK).increment();
        servedBy(picked.get(0).region()).increment();
        log.debug("[{} app={} reg={}] region {} -> {}", prefix, appId, regId, homeRegion, tcp);
        return new HttpResponse(200, new DispatchResponse(tcp, ws, token, expiresAt, homeRegion),
                "application/json", NO_STORE);
    }

    private Counter servedBy(String region) {
        Counter c = servedBy.get(region);
        if (c != null) {
            return c;
        }
        return servedBy.computeIfAbsent(region, r -> Counter.builder("dispatcher.dispatches.served")
                .description("Dispatches answered, by the region of the first broker offered (the serving region)")
                .tag("region", r).register(registry));
    }

    /** No token without the device's signature: a regId alone (known, guessed, never issued) proves nothing. */
    private void authenticate(HttpRequest request, String appId, String regId) {
        String ts = request.queryParam("ts");
        String sign = request.queryParam("sign");
        if (ts == null || ts.isEmpty() || sign == null || sign.isEmpty()) {
            throw fail(DispatchOutcome.UNAUTHORIZED, "ts and sign are required: sign the request with the device secret", null);
        }
        long millis;
        try {
            millis = Long.parseLong(ts);
        } catch (NumberFormatException e) {
            throw fail(DispatchOutcome.INVALID_FIELD, "ts must be epoch milliseconds", "ts");
        }
        if (!identity.appKnown(appId) || !identity.dispatchSigned(appId, regId, millis, sign, clock.millis())) {
            log.debug("[{} app={} reg={}] refused: bad or stale signature", prefix, appId, regId);
            throw fail(DispatchOutcome.UNAUTHORIZED, "bad or stale signature (ts must be within the allowed skew of "
                    + "the dispatcher's clock)", null);
        }
    }

    /** A broker's published WebSocket address as a URL; null when it takes no WebSocket clients. */
    static String wsUrl(String wsAddress) {
        if (wsAddress == null || wsAddress.isBlank()) {
            return null;
        }
        if (wsAddress.startsWith("ws://") || wsAddress.startsWith("wss://")) {
            return wsAddress;
        }
        return "ws://" + wsAddress + WebSocketFrameAdapters.PATH;
    }

    private String required(HttpRequest request, String name, Pattern pattern) {
        String v = request.queryParam(name);
        if (v == null || v.isEmpty()) {
            throw fail(DispatchOutcome.INVALID_FIELD, name + " is required", name);
        }
        if (!pattern.matcher(v).matches()) {
            throw fail(DispatchOutcome.INVALID_FIELD, name + " must match " + pattern.pattern(), name);
        }
        return v;
    }

    private ApiException fail(DispatchOutcome outcome, String message, String field) {
        outcomes.get(outcome).increment();
        return new ApiException(outcome.status(), outcome.code(), message, field);
    }
}
