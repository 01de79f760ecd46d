package io.tern.protocol.token;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceSecretsTest {
    private static final DeviceSecrets SECRETS = new DeviceSecrets("a-device-key-of-32-bytes-or-so!!".getBytes(StandardCharsets.UTF_8));

    @Test
    void aDeviceSecretIsStableHexAndDependsOnKeyAppAndRegId() {
        String s = SECRETS.secretFor("app", "reg-1");
        assertTrue(s.matches("[0-9a-f]{64}"), s);
        assertEquals(s, SECRETS.secretFor("app", "reg-1"));
        assertNotEquals(s, SECRETS.secretFor("app", "reg-2"));
        assertNotEquals(s, SECRETS.secretFor("app2", "reg-1"));
        assertNotEquals(s, new DeviceSecrets("another-device-key-0123456789".getBytes(StandardCharsets.UTF_8))
                .secretFor("app", "reg-1"));
    }

    @Test
    void movingCharactersBetweenAppIdAndRegIdGivesAnotherSecret() {
        assertNotEquals(SECRETS.secretFor("ab", "c"), SECRETS.secretFor("a", "bc"));
    }

    @Test
    void aShortDeviceKeyIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DeviceSecrets("short".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aDispatchSignatureVerifiesOnlyWithItsSecretAndClaims() {
        String secret = SECRETS.secretFor("app", "reg-1");
        long ts = System.currentTimeMillis();
        String sign = DispatchSignature.sign(secret, "app", "reg-1", ts);
        assertTrue(sign.matches("[0-9a-f]{64}"), sign);
        assertTrue(DispatchSignature.verify(secret, "app", "reg-1", ts, sign));
        assertFalse(DispatchSignature.verify(SECRETS.secretFor("app", "reg-2"), "app", "reg-1", ts, sign), "another device's secret");
        assertFalse(DispatchSignature.verify(secret, "app", "reg-2", ts, sign), "another regId");
        assertFalse(DispatchSignature.verify(secret, "app", "reg-1", ts + 1, sign), "another ts");
        assertFalse(DispatchSignature.verify(secret, "app", "reg-1", ts, null));
        assertFalse(DispatchSignature.verify(secret, "app", "reg-1", ts, "zz" + sign.substring(2)), "not hex");
        assertFalse(DispatchSignature.verify(secret, "app", "reg-1", ts, sign.substring(1)), "too short");
    }
}
