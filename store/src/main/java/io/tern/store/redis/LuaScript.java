package io.tern.store.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

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

    /** For a caller that sends the script itself (raw-bytes arguments): EVALSHA with this, EVAL on NOSCRIPT. */
    public String sha() {
        return sha;
    }

    public String source() {
        return source;
    }

    public <T> CompletableFuture<T> run(RedisClusterAsyncCommands<String, String> redis, ScriptOutputType type,
                                        String[] keys, String... args) {
        // One stage on the usual path; the fallback only runs when the script cache was lost.
        return redis.<T>evalsha(sha, type, keys, args).toCompletableFuture().exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RedisNoScriptException) {
                return redis.<T>eval(source, type, keys, args).toCompletableFuture();
            }
            return CompletableFuture.failedFuture(cause);
        });
    }
}
