package io.tern.devstack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** Loopback port helpers shared by the servers in this package. */
public final class Ports {
    public static final String HOST = "127.0.0.1";

    /** Where listening ports come from: below the kernel's ephemeral range (see {@link #free()}). */
    private static final int LOWEST = 10_000;
    private static final int ABOVE = belowEphemeral();
    /** Walks the range once per JVM from a random start, so this JVM never hands out a port twice in a run. */
    private static final AtomicInteger CURSOR =
            new AtomicInteger(ThreadLocalRandom.current().nextInt(ABOVE - LOWEST));

    private Ports() {
    }

    /**
     * A port that was free a moment ago, for a server started a moment later (often in another process).
     * It comes from below the ephemeral range: a port bound to 0 is an ephemeral one, and every outgoing
     * connection (to Redis, to Kafka) takes its source port from the same range, so such a port could be
     * taken before the server binds it (a broker failed to start so in CI). Another process can still take
     * the port first; callers that get an "address in use" failure retry with a new one.
     */
    public static int free() {
        int span = ABOVE - LOWEST;
        for (int i = 0; i < 64; i++) {
            int port = LOWEST + Math.floorMod(CURSOR.getAndIncrement(), span);
            if (bindable(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port on " + HOST + " in " + LOWEST + ".." + (ABOVE - 1));
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first ephemeral port (Linux's {@code ip_local_port_range}), or 32768 where it cannot be read. */
    private static int belowEphemeral() {
        try {
            String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            int low = Integer.parseInt(range[0]);
            return low > LOWEST + 1_000 ? low : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }

    /** True when something accepts connections on HOST:port. */
    public static boolean accepting(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(HOST, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
