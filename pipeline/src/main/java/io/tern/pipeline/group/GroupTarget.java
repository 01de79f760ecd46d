package io.tern.pipeline.group;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Who a group push reaches; stored as JSON with a scheduled task until it fires. */
public sealed interface GroupTarget {

    record ListTarget(List<String> regIds) implements GroupTarget {
        public ListTarget {
            regIds = List.copyOf(regIds);
        }
    }

    record TagTarget(TagExpression expression) implements GroupTarget {
    }

    record AllTarget() implements GroupTarget {
    }

    default String toJson() {
        ObjectNode o = Mapper.JSON.createObjectNode();
        if (this instanceof ListTarget l) {
            o.put("type", "list");
            l.regIds().forEach(o.putArray("regIds")::add);
        } else if (this instanceof TagTarget t) {
            o.put("type", "tag");
            ObjectNode tags = o.putObject("tags");
            t.expression().any().forEach(tags.putArray("any")::add);
            t.expression().all().forEach(tags.putArray("all")::add);
            t.expression().none().forEach(tags.putArray("none")::add);
        } else {
            o.put("type", "all");
        }
        return o.toString();
    }

    static GroupTarget fromJson(String json) {
        JsonNode o;
        try {
            o = Mapper.JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable target " + json, e);
        }
        switch (o.path("type").asText()) {
            case "list" -> {
                List<String> regIds = new ArrayList<>();
                o.path("regIds").forEach(r -> regIds.add(r.asText()));
                return new ListTarget(regIds);
            }
            case "tag" -> {
                return new TagTarget(TagExpression.parse(o.get("tags")));
            }
            case "all" -> {
                return new AllTarget();
            }
            default -> throw new IllegalArgumentException("unknown target type in " + json);
        }
    }

    /** Target JSON is stored with the task; its own mapper, not an HTTP server's. */
    final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper();

        private Mapper() {
        }
    }
}
