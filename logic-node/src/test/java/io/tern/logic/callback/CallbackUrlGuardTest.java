package io.tern.logic.callback;

import io.tern.runtime.config.ConfigException;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CallbackUrlGuardTest {
    private CallbackUrlGuard guard = new CallbackUrlGuard(CallbackConfig.Targets.defaults(), "t");

    @AfterEach
    void close() {
        guard.close();
    }

    private String refusal(String url) {
        CompletionException e = assertThrows(CompletionException.class, () -> guard.check(url).join(), url);
        return assertInstanceOf(CallbackUrlGuard.RefusedException.class, e.getCause(), url).getMessage();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "http://127.0.0.1:8089/", "http://127.9.9.9/", "http://10.0.0.1/", "http://172.16.0.1/", "http://172.31.255.255/",
            "http://192.168.1.1/", "http://100.64.0.1/", "http://169.254.169.254/latest/meta-data", "http://169.254.1.1/",
            "http://0.0.0.0/", "http://224.0.0.1/", "http://255.255.255.255/", "http://198.18.0.1/",
            "http://[::1]/", "http://[::]/", "http://[fc00::1]/", "http://[fd00:ec2::254]/", "http://[fe80::1]/",
            "http://[ff02::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::a00:1]/",
            "http://[2002:7f00:1::]/", "http://[::127.0.0.1]/", "https://127.0.0.1/", "http://localhost/",
            "http://LOCALHOST./", "http://metadata.google.internal/computeMetadata/v1/"})
    void internalAddressesAndNamesAreRefused(String url) {
        String why = refusal(url);
        assertTrue(why.startsWith("callback.url"), why);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/",
            "http://0x7f.0.0.1/", "http://127.0.0.01/", "http://017700000001/", "http://1.2.3.4.5/"})
    void ipv4InAnyNotationButFourDecimalOctetsIsRefusedWithoutResolving(String url) {
        CallbackUrlGuard.RefusedException e = assertThrows(CallbackUrlGuard.RefusedException.class,
                () -> CallbackUrlGuard.parse(url));
        assertTrue(e.getMessage().contains("four decimal octets"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://93.184.216.34/", "file:///etc/passwd", "gopher://93.184.216.34/", "javascript:alert(1)",
            "http://user:pw@93.184.216.34/", "http://user@93.184.216.34/", "http:///path", "//93.184.216.34/", "not a url"})
    void onlyHttpAndHttpsWithAHostAndNoUserInfo(String url) {
        assertThrows(CallbackUrlGuard.RefusedException.class, () -> CallbackUrlGuard.parse(url));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://93.184.216.34/cb", "https://8.8.8.8:8443/x?y=1", "http://[2606:4700::1111]/",
            "http://172.32.0.1/", "http://100.128.0.1/", "http://169.253.255.255/"})
    void publicAddressesPass(String url) {
        assertEquals(URI.create(url), guard.check(url).join());
    }

    @Test
    void anAllowListedLoopbackPortPassesAndOtherPortsOfTheSameAddressDoNot() {
        guard.close();
        guard = new CallbackUrlGuard(CallbackConfig.Targets.allowing("127.0.0.1:8089", "10.1.0.0/16", "[::1]:9000",
                "app.internal:8443"), "t");
        guard.check("http://127.0.0.1:8089/cb").join();
        refusal("http://127.0.0.1:8090/cb");
        guard.check("http://10.1.200.3/").join();
        guard.check("https://10.1.0.1:1234/").join();
        refusal("http://10.2.0.1/");
        guard.check("http://[::1]:9000/").join();
        refusal("http://[::1]:9001/");
        guard.check("https://APP.internal:8443/").join(); // allowed by name: not resolved at all
        refusal("https://app.internal/");
    }

    @Test
    void classifiesAddresses() throws Exception {
        assertEquals("metadata", CallbackUrlGuard.internalKind(InetAddress.getByName("169.254.169.254")));
        assertEquals("metadata", CallbackUrlGuard.internalKind(InetAddress.getByName("fd00:ec2::254")));
        assertEquals("shared (CGNAT)", CallbackUrlGuard.internalKind(InetAddress.getByName("100.127.255.255")));
        assertEquals("private (unique local)", CallbackUrlGuard.internalKind(InetAddress.getByName("fd12::1")));
        assertNull(CallbackUrlGuard.internalKind(InetAddress.getByName("1.1.1.1")));
        assertNull(CallbackUrlGuard.internalKind(InetAddress.getByName("2a00:1450::1")));
    }

    @Test
    void configReadsTheAllowListAndRejectsMalformedEntries() {
        CallbackConfig c = CallbackConfig.from(Settings.of(Map.of("logic.callback.allow", "127.0.0.1:8089, 10.0.0.0/8",
                "logic.callback.resolver-threads", "3")));
        assertEquals(List.of("127.0.0.1:8089", "10.0.0.0/8"), c.targets().allow());
        assertEquals(3, c.targets().resolverThreads());
        assertEquals(List.of(), CallbackConfig.defaults().targets().allow());
        for (String bad : List.of("127.0.0.1", "10.0.0.0/33", "host:0", "host:x", "a.b/8", ":80")) {
            assertThrows(ConfigException.class, () -> CallbackConfig.from(Settings.of(Map.of("logic.callback.allow", bad))), bad);
        }
    }
}
