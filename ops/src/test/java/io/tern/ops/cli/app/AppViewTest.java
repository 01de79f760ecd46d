package io.tern.ops.cli.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AppViewTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s.replace('\'', '"'));
    }

    @Test
    void listIsOneAppALineWithItsLimits() throws Exception {
        String text = AppView.list(json("{'apps':[{'appId':'demo','appKey':'demo-key','source':'config',"
                + "'limits':{'rate':1000,'dailyQuota':10000000,'source':'config'}},"
                + "{'appId':'news','appKey':'k2','source':'admin','limits':{'rate':50,'dailyQuota':100,'source':'admin'}}]}"));
        String[] lines = text.split(System.lineSeparator());
        assertEquals(3, lines.length, text);
        assertTrue(lines[0].startsWith("APP"), text);
        assertTrue(lines[1].matches("demo\\s+demo-key\\s+config\\s+1,000\\s+10,000,000\\s+config"), lines[1]);
        assertTrue(lines[2].matches("news\\s+k2\\s+admin\\s+50\\s+100\\s+admin"), lines[2]);
    }

    @Test
    void aNewSecretAndClientKeyAreShownWithTheWarningThatTheyAreNotShownAgain() throws Exception {
        String created = AppView.created(json("{'appId':'news','appKey':'k','appSecret':'s3cr3t','clientKey':'c1i3nt',"
                + "'limits':{'rate':5,'dailyQuota':9}}"));
        assertTrue(created.contains("appSecret  s3cr3t"), created);
        assertTrue(created.contains("clientKey  c1i3nt"), created);
        assertTrue(created.contains("not shown again"), created);
        String rotated = AppView.rotated(json("{'appId':'news','appSecret':'n3w','secretRotatedAt':'2026-01-01T00:00:00Z'}"));
        assertTrue(rotated.contains("appSecret  n3w") && rotated.contains("not shown again"), rotated);
        assertTrue(rotated.contains("client key is unchanged"), rotated);
    }

    @Test
    void limitsShowTodaysUseAgainstTheQuota() throws Exception {
        String text = AppView.limits(json("{'appId':'news','rate':50,'dailyQuota':200,'source':'admin','usedToday':50}"));
        assertTrue(text.contains("50 requests/s"), text);
        assertTrue(text.contains("200 pushes per UTC day, 50 used today (25.0 %)"), text);
    }

    @Test
    void missingFieldsPrintAsDashes() throws Exception {
        String text = AppView.app(json("{'appId':'x'}"));
        assertTrue(text.contains("key              -"), text);
        assertTrue(text.contains("- requests/s"), text);
    }
}
