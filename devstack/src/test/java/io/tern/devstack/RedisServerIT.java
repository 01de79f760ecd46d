package io.tern.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class RedisServerIT {

    @Test
    void answersPingServesSetGetAndFreesPortOnClose() throws Exception {
        RedisServer redis = RedisServer.start(RedisServer.Options.defaults());
        int port = redis.port();
        Path dir = redis.dataDir();
        try {
            assertNotEquals(0, port);
            assertEquals("127.0.0.1", redis.host());
            assertEquals("redis://127.0.0.1:" + port, redis.uri());
            assertTrue(redis.isRunning());

            try (Socket s = new Socket(redis.host(), port)) {
                s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                assertEquals("+PONG", in.readLine());
            }
            try (Resp r = new Resp(redis.host(), port)) {
                assertEquals("OK", r.call("SET", "tern:k", "välue"));
                assertEquals("välue", r.call("GET", "tern:k"));
            }
        } finally {
            redis.close();
        }
        assertFalse(redis.isRunning());
        assertFalse(Ports.accepting(port), "nothing listens on " + port + " after close");
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
        }
        assertFalse(Files.exists(dir), "temp data dir deleted on close");
        redis.close(); // idempotent
    }

    @Test
    void restartKeepsAofDataAfterCleanStopAndAfterKill(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start(
                RedisServer.Options.defaults().withAppendOnly(true).withDataDir(dir))) {
            int port = redis.port();
            try (Resp r = new Resp(redis.host(), port)) {
                r.call("SET", "before-restart", "1");
            }
            redis.restart();
            assertEquals(port, redis.port());
            try (Resp r = new Resp(redis.host(), port)) {
                assertEquals("1", r.call("GET", "before-restart"));
                r.call("SET", "before-kill", "2");
            }
            // The write(2) to the AOF (and, with appendfsync always, the fsync) happens before the reply: SIGKILL loses nothing.
            redis.kill();
            assertFalse(redis.isRunning());
            redis.restart();
            try (Resp r = new Resp(redis.host(), port)) {
                assertEquals("1", r.call("GET", "before-restart"));
                assertEquals("2", r.call("GET", "before-kill"));
            }
        }
        assertTrue(Files.exists(dir), "a caller's data dir is kept");
    }

    @Test
    void aPasswordIsRequiredAndCarriedInTheUriButNotOnTheCommandLine() throws Exception {
        try (RedisServer redis = RedisServer.start(RedisServer.Options.defaults().withPassword("pw with spaces&@"))) {
            assertEquals("redis://:pw%20with%20spaces%26%40@127.0.0.1:" + redis.port(), redis.uri());
            try (Resp r = new Resp(redis.host(), redis.port())) {
                IOException e = assertThrows(IOException.class, () -> r.call("GET", "k"));
                assertTrue(e.getMessage().contains("NOAUTH"), e.getMessage());
                assertEquals("OK", r.call("AUTH", "pw with spaces&@"));
                assertEquals("OK", r.call("SET", "k", "v"));
            }
            assertFalse(ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains("pw with spaces")),
                    "the password is not in any process's command line");
            assertFalse(RedisServer.Options.defaults().withPassword("pw with spaces&@").toString().contains("spaces"));
            redis.restart();
            try (Resp r = new Resp(redis.host(), redis.port())) {
                assertEquals("OK", r.call("AUTH", "pw with spaces&@"));
            }
        }
    }

    @Test
    void withoutAofRestartStartsEmpty() throws Exception {
        try (RedisServer redis = RedisServer.start(RedisServer.Options.defaults())) {
            try (Resp r = new Resp(redis.host(), redis.port())) {
                r.call("SET", "k", "v");
            }
            redis.restart();
            try (Resp r = new Resp(redis.host(), redis.port())) {
                assertEquals(null, r.call("GET", "k"));
            }
        }
    }

    @Test
    void failedStartReportsServerOutput() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> RedisServer.start(RedisServer.Options.defaults().withPort(taken.getLocalPort())));
            assertTrue(e.getMessage().contains("Address already in use"), e.getMessage());
        }
    }

    @Test
    void sharedRedisIsOnePerJvm() throws Exception {
        RedisServer a = SharedInfra.redis();
        assertSame(a, SharedInfra.redis());
        try (Resp r = new Resp(a.host(), a.port())) {
            assertEquals("PONG", r.call("PING"));
        }
    }
}
