package io.tern.loadtest.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.loadtest.process.ChildIo;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Main class of a device (load client) process: {@code java ... DeviceProcess '<DeviceConfig JSON>'}; its
 * receivers are Tern devices, or Redis pub/sub subscribers when the config names a Redis (the baseline).
 *
 * <p>Commands on stdin: {@code connect} (start every device, paced), {@code reset} (forget what was
 * received so far; answers {@code reset}), {@code window <name> <fromMicros> <toMicros>} (single pushes
 * whose intended send time falls in that range also count in latency histogram {@code name}), {@code final} (write a
 * {@code final} line with counts and latency histograms), {@code close} (close every device, then
 * write a {@code closed} line). It writes {@code hello} once, then a {@code stats} line every
 * {@code statsEveryMs}, and a {@code complete} line ({@code k}) once per broadcast when its receipts reach the
 * devices connected at that moment (the runner's {@code --in-flight} bound). End of stdin halts the process at
 * once (the kernel closes the sockets).
 */
public final class DeviceProcess {
    private DeviceProcess() {
    }

    public static void main(String[] args) throws Exception {
        DeviceConfig config = ChildIo.JSON.readValue(args[0], DeviceConfig.class);
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "devices-stats");
            t.setDaemon(true);
            return t;
        });
        // Written from the ticker thread, not the event loop that saw the receipt (stdout may block).
        LongConsumer complete = k -> ticker.execute(() -> emitComplete(k));
        Fleet fleet = config.pubsubRedis() == null ? new TernFleet(config, complete) : new PubSubFleet(config, complete);
        CountDownLatch forever = new CountDownLatch(1);
        ChildIo.listen(line -> {
            String[] w = line.split(" ");
            String cmd = w[0];
            switch (cmd) {
                case "connect" -> fleet.connectAll();
                case "reset" -> {
                    fleet.resetReceipts();
                    ChildIo.emit(ChildIo.message("reset"));
                }
                case "window" -> fleet.window(w[1], Long.parseLong(w[2]), Long.parseLong(w[3]));
                case "final" -> {
                    ObjectNode n = ChildIo.message("final");
                    fleet.putStats(n);
                    fleet.putHistograms(n);
                    ChildIo.emit(n);
                }
                case "close" -> {
                    int closed = fleet.closeAll(Duration.ofSeconds(20));
                    ObjectNode n = ChildIo.message("closed");
                    n.put("closed", closed);
                    fleet.putStats(n);
                    ChildIo.emit(n);
                }
                default -> System.err.println("unknown command: " + line);
            }
        }, () -> Runtime.getRuntime().halt(0));
        ticker.scheduleAtFixedRate(() -> {
            fleet.broadcastsCompleteNow().forEach(DeviceProcess::emitComplete);
            ObjectNode n = ChildIo.message("stats");
            fleet.putStats(n);
            ChildIo.emit(n);
        }, 0, config.statsEveryMs(), TimeUnit.MILLISECONDS);
        ObjectNode hello = ChildIo.message("hello");
        hello.put("pid", ProcessHandle.current().pid());
        ChildIo.emit(hello);
        forever.await();
    }

    private static void emitComplete(long k) {
        ChildIo.emit(ChildIo.message("complete").put("k", k));
    }
}
