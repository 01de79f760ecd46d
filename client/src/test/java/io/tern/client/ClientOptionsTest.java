package io.tern.client;

import io.netty.channel.DefaultEventLoopGroup;
import io.tern.client.dispatch.DeviceCredentials;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ClientOptionsTest {

    private static TernClient.Builder valid() {
        return TernClient.builder()
                .dispatcher(URI.create("http://127.0.0.1:8081"))
                .appId("demo").credentials(new DeviceCredentials("dev-1", "a-device-secret"))
                .listener(m -> { });
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        TernClient client = valid().build();
        try {
            ClientOptions o = client.options();
            assertEquals(Transport.TCP, o.transport());
            assertEquals(Duration.ofSeconds(3), o.connectTimeout());
            assertEquals(Duration.ofMillis(200), o.backoffInitial());
            assertEquals(Duration.ofSeconds(30), o.backoffMax());
            assertEquals(4096, o.dedupCapacity());
            assertEquals(8 * 1024, o.maxFrameBody());
            assertEquals(TernClient.State.NEW, client.state());
        } finally {
            client.close();
        }
    }

    @Test
    void requiredSettings() {
        assertThrows(IllegalArgumentException.class, () -> valid().dispatcher(null).build());
        assertThrows(IllegalArgumentException.class, () -> valid().appId(" ").build());
        assertThrows(IllegalArgumentException.class, () -> valid().credentials(null).build(),
                "neither credentials nor a clientKey to register with");
        valid().credentials(null).clientKey("demo-client-key").build().close();
        assertThrows(IllegalArgumentException.class, () -> new DeviceCredentials("dev-1", " "));
        assertThrows(IllegalArgumentException.class, () -> valid().listener(null).build());
    }

    @Test
    void rangesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> valid().dispatcher(URI.create("ftp://x")).build());
        assertThrows(IllegalArgumentException.class,
                () -> valid().reconnectBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)).build());
        assertThrows(IllegalArgumentException.class, () -> valid().reconnectBackoff(Duration.ZERO, Duration.ofSeconds(1)).build());
        assertThrows(IllegalArgumentException.class, () -> valid().dedupCapacity(0).build());
        assertThrows(IllegalArgumentException.class, () -> valid().maxFrameBody(10).build());
        assertThrows(IllegalArgumentException.class, () -> valid().maxFrameBody(64 * 1024 * 1024).build());
        assertThrows(IllegalArgumentException.class, () -> valid().connectTimeout(Duration.ofMillis(-1)).build());
        assertThrows(IllegalArgumentException.class, () -> new DeviceCredentials("x".repeat(3000), "secret"));
    }

    @Test
    void eventLoopGroupMustBeEpollOrNio() {
        DefaultEventLoopGroup local = new DefaultEventLoopGroup(1);
        try {
            assertThrows(IllegalArgumentException.class, () -> valid().eventLoopGroup(local).build());
        } finally {
            local.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
