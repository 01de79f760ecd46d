package io.tern.loadtest.process;

import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs another main class (e.g. {@code io.tern.broker.BrokerMain}) unchanged, and ends the JVM
 * when stdin closes or the lifetime limit passes: {@code java ... WatchedMain <mainClass> [args]}.
 * The JVM exits through {@link System#exit}, so the wrapped main's shutdown hook (a broker's
 * orderly close) still runs. This is how the runner keeps brokers from outliving it.
 */
public final class WatchedMain {
    private WatchedMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 1) {
            System.err.println("usage: WatchedMain <mainClass> [args...]");
            System.exit(2);
        }
        ChildIo.listen(line -> { }, () -> ChildIo.exit(0));
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
