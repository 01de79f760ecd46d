package io.tern.pipeline.group;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;
import io.tern.runtime.http.HttpServer;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tag expressions of tag pushes: any JSON value ends in an expression of at most
 * {@link TagExpression#MAX_TAGS} valid tags per operator with any or all non-empty, or in a 400
 * {@link PushException} naming the part at fault; never another exception.
 * Regression inputs: src/test/resources/io/tern/pipeline/group/TagExpressionFuzzTestInputs/.
 */
class TagExpressionFuzzTest {

    @FuzzTest(maxDuration = "15m", maxExecutions = 1_000_000)
    void anyValueIsAValidExpressionOrA400(byte[] input) {
        JsonNode tags;
        try {
            tags = HttpServer.JSON.readTree(input); // malformed JSON is the body reader's 400, not ours
        } catch (IOException e) {
            return;
        }
        TagExpression e;
        try {
            e = TagExpression.parse(tags);
        } catch (PushException refused) {
            assertEquals(PushError.INVALID_FIELD, refused.error());
            assertNotNull(refused.field());
            assertTrue(refused.field().startsWith("tags"), refused.field());
            return;
        }
        assertFalse(e.any().isEmpty() && e.all().isEmpty());
        for (List<String> op : List.of(e.any(), e.all(), e.none())) {
            assertTrue(op.size() <= TagExpression.MAX_TAGS);
            assertEquals(op.stream().distinct().count(), op.size(), "tags are deduplicated");
            op.forEach(t -> assertTrue(TagExpression.TAG.matcher(t).matches(), t));
        }
    }
}
