package io.tern.charts;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.SecretVolumeSource;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a container of a rendered pod would see, worked out as the kubelet does: env from values, Secret keys and
 * the downward API, {@code $(VAR)} references to earlier variables expanded, and Secret volumes as files (written
 * under {@code root}; env values naming a mounted file point there).
 */
final class Pod {
    static final String POD_IP = "10.4.2.17";
    private static final Pattern REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    private Pod() {
    }

    /**
     * @param secrets Secret name → key → value: those the chart renders and those an operator would have made
     * @param root    stands for the container's filesystem root
     */
    static Map<String, String> env(PodSpec spec, Container c, String podName, Map<String, Map<String, String>> secrets,
                                   Path root) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv()) {
            String v;
            if (e.getValueFrom() == null) {
                v = expand(e.getValue() == null ? "" : e.getValue(), env);
            } else if (e.getValueFrom().getSecretKeyRef() != null) {
                SecretKeySelector ref = e.getValueFrom().getSecretKeyRef();
                v = secrets.getOrDefault(ref.getName(), Map.of()).get(ref.getKey());
                if (v == null) {
                    if (Boolean.TRUE.equals(ref.getOptional())) {
                        continue;
                    }
                    throw new AssertionError(e.getName() + " needs key " + ref.getKey() + " of Secret " + ref.getName());
                }
            } else if (e.getValueFrom().getFieldRef() != null) {
                String field = e.getValueFrom().getFieldRef().getFieldPath();
                v = switch (field) {
                    case "metadata.name" -> podName;
                    case "status.podIP" -> POD_IP;
                    default -> throw new AssertionError("unexpected fieldRef " + field);
                };
            } else {
                throw new AssertionError("unexpected valueFrom of " + e.getName());
            }
            env.put(e.getName(), v);
        }
        List<String> mounts = mountSecrets(spec, c, secrets, root);
        env.replaceAll((k, v) -> mounts.stream().anyMatch(m -> v.startsWith(m + "/"))
                ? root.resolve(v.substring(1)).toString() : v);
        return env;
    }

    /** $(VAR) of a variable defined earlier expands; anything else stays as written, as the kubelet leaves it. */
    static String expand(String value, Map<String, String> earlier) {
        Matcher m = REF.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = earlier.get(m.group(1));
            m.appendReplacement(out, Matcher.quoteReplacement(v != null ? v : m.group()));
        }
        return m.appendTail(out).toString();
    }

    /** Writes each mounted Secret's files under root; returns the mount paths. */
    private static List<String> mountSecrets(PodSpec spec, Container c, Map<String, Map<String, String>> secrets,
                                             Path root) {
        List<VolumeMount> mounts = c.getVolumeMounts() == null ? List.of() : c.getVolumeMounts();
        for (VolumeMount mount : mounts) {
            Volume volume = spec.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst()
                    .orElseThrow(() -> new AssertionError("mount " + mount.getName() + " has no volume"));
            if (volume.getEmptyDir() != null) {
                continue;
            }
            SecretVolumeSource source = volume.getSecret();
            if (source == null) {
                throw new AssertionError("volume " + volume.getName() + " is neither a Secret nor an emptyDir");
            }
            Map<String, String> data = secrets.get(source.getSecretName());
            if (data == null) {
                throw new AssertionError("volume " + volume.getName() + " needs Secret " + source.getSecretName());
            }
            Map<String, String> files = new LinkedHashMap<>();
            if (source.getItems() == null || source.getItems().isEmpty()) {
                files.putAll(data);
            } else {
                for (KeyToPath item : source.getItems()) {
                    String content = data.get(item.getKey());
                    if (content == null) {
                        throw new AssertionError("Secret " + source.getSecretName() + " lacks key " + item.getKey());
                    }
                    files.put(item.getPath(), content);
                }
            }
            try {
                Path dir = root.resolve(mount.getMountPath().substring(1));
                Files.createDirectories(dir);
                for (Map.Entry<String, String> f : files.entrySet()) {
                    Files.writeString(dir.resolve(f.getKey()), f.getValue());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return mounts.stream().map(VolumeMount::getMountPath).toList();
    }
}
