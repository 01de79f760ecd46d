package io.tern.devstack.process;

import io.tern.devstack.KafkaBroker;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A single-node KRaft Kafka ({@link KafkaBroker}) in a JVM of its own, so a test can SIGKILL it and start it
 * again on the same ports and log dir: {@code KafkaMain <port> <controllerPort> <logDir> [topic,... [compacted-topic,...]]}. Prints
 * {@value #READY} once the broker answers and the topics have leaders; SIGTERM stops it cleanly.
 */
public final class KafkaMain {
    /** The line (then the bootstrap address) printed once Kafka serves. */
    public static final String READY = "tern-kafka ready";

    private KafkaMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            System.err.println("usage: KafkaMain <port> <controllerPort> <logDir> [topic,... [compacted-topic,...]]");
            System.exit(2);
        }
        KafkaBroker kafka = KafkaBroker.start(KafkaBroker.Options.defaults()
                .withPort(Integer.parseInt(args[0]))
                .withControllerPort(Integer.parseInt(args[1]))
                .withLogDir(Path.of(args[2])));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            kafka.close();
            stopped.countDown();
        }, "tern-kafka-shutdown"));
        if (args.length > 3 && !args[3].isBlank()) {
            kafka.createTopics(names(args[3]), args.length > 4 ? names(args[4]) : List.of());
        }
        System.out.println(READY + " " + kafka.bootstrapServers());
        System.out.flush();
        stopped.await();
    }

    private static List<String> names(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(n -> !n.isEmpty()).toList();
    }
}
