package io.tern.client.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BrokerAddressTest {

    @Test
    void hostPortForTcp() {
        BrokerAddress a = BrokerAddress.parse("10.1.2.3:7000", false);
        assertEquals("10.1.2.3", a.host());
        assertEquals(7000, a.port());
        assertNull(a.wsUri());
        assertEquals("10.1.2.3:7000", a.raw());
    }

    @Test
    void bracketedIpv6() {
        BrokerAddress a = BrokerAddress.parse("[::1]:7000", false);
        assertEquals("::1", a.host());
        assertEquals(7000, a.port());
    }

    @Test
    void wsUriForWebSocket() {
        BrokerAddress a = BrokerAddress.parse("ws://broker-1.north:8090/v1/ws", true);
        assertEquals("broker-1.north", a.host());
        assertEquals(8090, a.port());
        assertEquals(URI.create("ws://broker-1.north:8090/v1/ws"), a.wsUri());
        assertFalse(a.tls());
    }

    @Test
    void wssDefaultsToPort443() {
        BrokerAddress a = BrokerAddress.parse("wss://push.example.com/v1/ws", true);
        assertEquals(443, a.port());
        assertTrue(a.tls());
    }

    @Test
    void plainAddressBecomesAWsUriForWebSocket() {
        BrokerAddress a = BrokerAddress.parse("127.0.0.1:8090", true);
        assertEquals(URI.create("ws://127.0.0.1:8090/v1/ws"), a.wsUri());
    }

    @Test
    void wsUriGivenToTcpContributesHostAndPort() {
        BrokerAddress a = BrokerAddress.parse("ws://127.0.0.1:8090/v1/ws", false);
        assertEquals(8090, a.port());
        assertFalse(a.webSocket());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "nohost", "host:", ":7000", "host:notaport", "host:70000", "::1:7000", "ws://:80/v1/ws"})
    void rejectsBadAddresses(String raw) {
        assertThrows(IllegalArgumentException.class, () -> BrokerAddress.parse(raw, false));
    }
}
