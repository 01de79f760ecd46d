package io.tern.charts;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The chart charts/tern rendered and linted by the Helm that helm-java bundles. */
final class Chart {
    static final Path DIR = Path.of("tern").toAbsolutePath();
    static final Path THREE_REGIONS = DIR.resolve("examples/three-regions.yaml");
    static final String RELEASE = "tern";
    static final String NAMESPACE = "push";
    static final String KUBE_VERSION = "1.30.0";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final KubernetesSerialization K8S = new KubernetesSerialization();

    private Chart() {
    }

    /** {@code helm template tern charts/tern -n push [-f values]}, parsed into the fabric8 model. */
    static List<HasMetadata> render(Path values, Map<String, String> set) {
        // Without a cluster Helm assumes Kubernetes 1.20; the chart needs policy/v1 and says >= 1.25.
        TemplateCommand t = new Helm(DIR).template().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(KUBE_VERSION);
        if (values != null) {
            t = t.withValuesFile(values);
        }
        for (Map.Entry<String, String> e : set.entrySet()) {
            t = t.set(e.getKey(), e.getValue());
        }
        String manifests = t.call();
        keep(values, set, manifests);
        return parse(manifests);
    }

    /** Each render is left under target/rendered for a reader of a failed build. */
    private static void keep(Path values, Map<String, String> set, String manifests) {
        String name = (values == null ? "default" : values.getFileName().toString().replace(".yaml", ""))
                + (set.isEmpty() ? "" : "-" + Integer.toHexString(new java.util.TreeMap<>(set).hashCode()));
        try {
            Path dir = Files.createDirectories(Path.of("target", "rendered"));
            Files.writeString(dir.resolve(name + ".yaml"), manifests);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<HasMetadata> parse(String manifests) {
        List<HasMetadata> out = new ArrayList<>();
        for (String doc : manifests.split("(?m)^---\\s*$")) {
            if (doc.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
                continue;
            }
            Object o = K8S.unmarshal(doc);
            if (!(o instanceof HasMetadata h)) {
                throw new AssertionError("not a Kubernetes object: " + doc);
            }
            out.add(h);
        }
        return out;
    }

    /**
     * {@code helm lint --strict} of the chart with {@code values} layered over its defaults. helm-java's lint
     * takes no values file, so a copy of the chart whose values.yaml is the merged values is linted.
     */
    static LintResult lint(Path values, Path workDir) {
        if (values == null) {
            return new Helm(DIR).lint().strict().call();
        }
        try {
            Path copy = workDir.resolve("tern");
            try (Stream<Path> files = Files.walk(DIR)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Path target = copy.resolve(DIR.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(f, target);
                    }
                }
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> merged = YAML.readValue(DIR.resolve("values.yaml").toFile(), Map.class);
            @SuppressWarnings("unchecked")
            Map<String, Object> over = YAML.readValue(values.toFile(), Map.class);
            YAML.writeValue(copy.resolve("values.yaml").toFile(), merge(merged, over));
            return new Helm(copy).lint().strict().call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Helm's merge: maps merge key by key, anything else (lists too) is replaced. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> over) {
        Map<String, Object> out = new LinkedHashMap<>(base);
        over.forEach((k, v) -> out.merge(k, v, (a, b) -> a instanceof Map && b instanceof Map
                ? merge((Map<String, Object>) a, (Map<String, Object>) b) : b));
        return out;
    }
}
