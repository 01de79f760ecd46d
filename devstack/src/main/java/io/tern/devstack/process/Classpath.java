package io.tern.devstack.process;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/** The classpath child JVMs get: this JVM's own (override with {@code -Dtern.devstack.classpath=...}). */
public final class Classpath {
    private Classpath() {
    }

    public static String runtime() {
        String override = System.getProperty("tern.devstack.classpath");
        if (override != null && !override.isBlank()) {
            return override;
        }
        String cp = System.getProperty("java.class.path");
        String[] parts = cp.split(File.pathSeparator);
        // A single manifest-only jar (as surefire / failsafe can use): expand its Class-Path.
        if (parts.length == 1 && parts[0].endsWith(".jar")) {
            String expanded = fromManifest(Path.of(parts[0]));
            if (expanded != null) {
                return expanded;
            }
        }
        return cp;
    }

    private static String fromManifest(Path jar) {
        if (!Files.isRegularFile(jar)) {
            return null;
        }
        try (JarFile f = new JarFile(jar.toFile())) {
            Manifest m = f.getManifest();
            String cp = m == null ? null : m.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (cp == null || cp.isBlank()) {
                return null;
            }
            StringBuilder sb = new StringBuilder(jar.toString());
            for (String entry : cp.trim().split("\\s+")) {
                String path = entry.startsWith("file:") ? Path.of(java.net.URI.create(entry)).toString() : entry;
                sb.append(File.pathSeparator).append(path);
            }
            return sb.toString();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
