package io.tern.store.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** A Lua script run by SHA, re-sent in full only when Redis lost its script cache (restart). */
public final class LuaScript {
    private final String source;
    private final String sha;

    private LuaScript(String source) {
        this.source = source;
        try {
            this.sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(source.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A script given as source (a module's own, small script). */
    public static LuaScript of(String source) {
        return new LuaScript(source);
    }

    /**
     * Loads {@code /io/tern/store/lua/<name>.lua} from the classpath, after the given libraries
     * (same place): Redis scripts cannot include one another, so shared functions are prepended.
     */
    public static LuaScript load(String name, String... libraries) {
        StringBuilder source = new StringBuilder();
        for (String library : libraries) {
            source.append(read(library)).append('\n');
        }
        return new LuaScript(source.append(read(name)).toString());
    }

    /**
     * Loads {@code /io/tern/store/lua/<name>.lua} after {@code constants} defined as Lua locals: a process's settings,
     * the same on every call, so they are not encoded and sent with each one. Each set of values is a script of its
     * own (its own SHA), which Redis caches like any other.
     */
    public static LuaScript load(String name, Map<String, Long> constants) {
        StringBuilder source = new StringBuilder();
        new TreeMap<>(constants).forEach((k, v) -> source.append("local ").append(k).append(" = ").append(v).append('\n'));
        return new LuaScript(source.append(read(name)).toString());
    }

    private static String read(String name) {
        String path = "/io/tern/store/lua/" + name + ".lua";
        try (InputStream in = LuaScript.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing script " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + path, e);
        }
    }

    public <T> CompletableFuture<T> run(RedisClusterAsyncCommands<String, String> redis, ScriptOutputType type,
                                        String[] keys, String... args) {
        return reloading(() -> redis.<T>evalsha(sha, type, keys, args).toCompletableFuture(),
                () -> redis.<T>eval(source, type, keys, args).toCompletableFuture());
    }

    /**
     * Runs the script with arguments the store's String codec cannot carry (raw bytes): {@code args} adds them after
     * the keys, {@code output} reads the reply.
     */
    public <T> CompletableFuture<T> dispatch(RedisClusterAsyncCommands<String, String> redis,
                                             Supplier<CommandOutput<String, String, T>> output, String[] keys,
                                             Consumer<CommandArgs<String, String>> args) {
        return reloading(() -> dispatch(redis, CommandType.EVALSHA, sha, output.get(), keys, args),
                () -> dispatch(redis, CommandType.EVAL, source, output.get(), keys, args));
    }

    private static <T> CompletableFuture<T> dispatch(RedisClusterAsyncCommands<String, String> redis, CommandType type,
                                                     String script, CommandOutput<String, String, T> output,
                                                     String[] keys, Consumer<CommandArgs<String, String>> args) {
        CommandArgs<String, String> all = new CommandArgs<>(StringCodec.UTF8).add(script).add(keys.length).addKeys(keys);
        args.accept(all);
        return redis.dispatch(type, output, all).toCompletableFuture();
    }

    /** By SHA, one stage on the usual path; the script is sent in full only when Redis lost its script cache. */
    private static <T> CompletableFuture<T> reloading(Supplier<CompletableFuture<T>> bySha,
                                                      Supplier<CompletableFuture<T>> bySource) {
        return bySha.get().exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RedisNoScriptException) {
                return bySource.get();
            }
            return CompletableFuture.failedFuture(cause);
        });
    }
}
