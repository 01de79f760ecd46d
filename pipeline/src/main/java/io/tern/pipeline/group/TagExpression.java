package io.tern.pipeline.group;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.pipeline.error.PushError;
import io.tern.pipeline.error.PushException;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which devices a tag push reaches: members of at least one {@code any} tag (if given), of every
 * {@code all} tag, and of no {@code none} tag. At least one of any / all is required, so the
 * target is never "every device except".
 */
public record TagExpression(List<String> any, List<String> all, List<String> none) {
    public static final Pattern TAG = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    public static final int MAX_TAGS = 16;

    public TagExpression {
        any = List.copyOf(any);
        all = List.copyOf(all);
        none = List.copyOf(none);
    }

    /** Parses {@code {"any":[..],"all":[..],"none":[..]}}; 400 names the part at fault. */
    public static TagExpression parse(JsonNode tags) {
        if (tags == null || tags.isNull()) {
            throw PushException.invalid("tags", "tags is required: {\"any\":[..],\"all\":[..],\"none\":[..]}");
        }
        if (!tags.isObject()) {
            throw PushException.invalid("tags", "tags must be an object with any / all / none arrays");
        }
        tags.fieldNames().forEachRemaining(f -> {
            if (!f.equals("any") && !f.equals("all") && !f.equals("none")) {
                throw PushException.invalid("tags." + f, "unknown operator '" + f + "': use any, all or none");
            }
        });
        TagExpression e = new TagExpression(list(tags, "any"), list(tags, "all"), list(tags, "none"));
        if (e.any.isEmpty() && e.all.isEmpty()) {
            throw PushException.invalid("tags", "give at least one tag in any or all");
        }
        return e;
    }

    private static List<String> list(JsonNode tags, String op) {
        JsonNode v = tags.get(op);
        if (v == null || v.isNull()) {
            return List.of();
        }
        String field = "tags." + op;
        if (!v.isArray()) {
            throw PushException.invalid(field, field + " must be an array of tags");
        }
        if (v.size() > MAX_TAGS) {
            throw PushException.invalid(field, field + " has " + v.size() + " tags, at most " + MAX_TAGS);
        }
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (JsonNode t : v) {
            if (!t.isTextual() || !TAG.matcher(t.asText()).matches()) {
                throw PushException.invalid(field, field + " holds an invalid tag: " + t);
            }
            out.add(t.asText());
        }
        return new ArrayList<>(out);
    }
}
