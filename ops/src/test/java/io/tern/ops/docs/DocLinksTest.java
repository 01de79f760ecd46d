package io.tern.ops.docs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README and the documents under docs/ link only inside the repository: every link names a file or folder
 * that exists here (and, into a Markdown file, a heading that exists there). Links to the web, or out of the
 * repository, fail: a reader of a checkout must be able to follow every one.
 */
class DocLinksTest {
    private static final Pattern INLINE = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern REFERENCE = Pattern.compile("^\\s{0,3}\\[[^]]+]:\\s*(\\S+)", Pattern.MULTILINE);

    @Test
    void everyLinkInTheReadmeAndDocsResolvesInsideTheRepository() throws IOException {
        Path repo = Path.of("").toAbsolutePath().getParent().normalize();
        List<Path> docs = new ArrayList<>(List.of(repo.resolve("README.md")));
        try (Stream<Path> files = Files.list(repo.resolve("docs"))) {
            files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        List<String> broken = new ArrayList<>();
        int links = 0;
        for (Path doc : docs) {
            for (String target : links(Files.readString(doc))) {
                links++;
                String problem = problem(repo, doc, target);
                if (problem != null) {
                    broken.add(repo.relativize(doc) + ": (" + target + ") " + problem);
                }
            }
        }
        assertTrue(links > 20, "found only " + links + " links: is the parser still reading the documents?");
        assertEquals(List.of(), broken);
    }

    @Test
    void aLinkOutOfTheRepositoryOrToAMissingHeadingIsReported() throws IOException {
        Path repo = Path.of("").toAbsolutePath().getParent().normalize();
        Path readme = repo.resolve("README.md");
        assertTrue(problem(repo, readme, "https://example.com/x").contains("outside"));
        assertTrue(problem(repo, readme, "../shared/STYLE.md").contains("outside"));
        assertTrue(problem(repo, readme, "docs/no-such-file.md").contains("no such file"));
        assertTrue(problem(repo, readme, "docs/architecture.md#no-such-heading").contains("no heading"));
        assertEquals(null, problem(repo, readme, "docs/architecture.md#layering"));
    }

    /** Link targets outside fenced code blocks. */
    static List<String> links(String markdown) {
        StringBuilder prose = new StringBuilder();
        boolean fenced = false;
        for (String line : markdown.split("\n")) {
            if (line.trim().startsWith("```")) {
                fenced = !fenced;
            } else if (!fenced) {
                prose.append(line).append('\n');
            }
        }
        List<String> out = new ArrayList<>();
        for (Pattern p : List.of(INLINE, REFERENCE)) {
            Matcher m = p.matcher(prose);
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /** Why {@code target}, linked from {@code doc}, does not resolve; null when it does. */
    static String problem(Path repo, Path doc, String target) throws IOException {
        if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
            return "points outside the repository";
        }
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        String anchor = hash < 0 ? null : target.substring(hash + 1);
        Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
        if (!resolved.startsWith(repo)) {
            return "points outside the repository";
        }
        if (!Files.exists(resolved)) {
            return "no such file in the repository";
        }
        if (anchor != null && resolved.toString().endsWith(".md") && !headings(Files.readString(resolved)).contains(anchor)) {
            return "no heading '" + anchor + "' in " + repo.relativize(resolved);
        }
        return null;
    }

    /** GitHub's anchors for the headings of a Markdown document. */
    static Set<String> headings(String markdown) {
        Set<String> out = new HashSet<>();
        boolean fenced = false;
        for (String line : markdown.split("\n")) {
            if (line.trim().startsWith("```")) {
                fenced = !fenced;
            } else if (!fenced && line.startsWith("#")) {
                String text = line.replaceFirst("^#+\\s*", "").replace("`", "").trim().toLowerCase(Locale.ROOT);
                out.add(text.replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
            }
        }
        return out;
    }
}
