package io.tern.devstack.process;

import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs another main class (e.g. {@code io.tern.broker.BrokerMain}) unchanged, under a {@link Lifeline}:
 * {@code java ... WatchedMain <mainClass> [args]}. The wrapped main's shutdown hook (a role's orderly
 * close) still runs when the lifeline ends the JVM. This is how test fixtures and the load tester keep
 * role processes from outliving them.
 */
public final class WatchedMain {
    private WatchedMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 1) {
            System.err.println("usage: WatchedMain <mainClass> [args...]");
            System.exit(2);
        }
        Lifeline.armAll();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
