package io.tern.local.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import io.tern.runtime.http.ApiException;
import io.tern.runtime.http.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The module and package layering of docs/architecture.md, checked on the main classes of every module
 * (local depends on all of them, ops in test scope; loadtest depends on local, so it is the one module not on
 * this classpath).
 * Rules are written by package pattern, so a new package of a module is held to its module's rules.
 * A Maven dependency alone would let any of these rot: adding a {@code <dependency>} is one line.
 */
@AnalyzeClasses(packages = "io.tern", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {

    // Module -> root package (artifactId differs for logic-node, global-scheduler, rate-controller, bypass-consumer,
    // disk-kv-backup).
    private static final String PROTOCOL = "io.tern.protocol..";
    private static final String RUNTIME = "io.tern.runtime..";
    private static final String STORE = "io.tern.store..";
    private static final String PIPELINE = "io.tern.pipeline..";
    private static final String CLIENT = "io.tern.client..";
    private static final String DEVSTACK = "io.tern.devstack..";
    private static final String LOGIC_NODE = "io.tern.logic..";
    private static final String BROKER = "io.tern.broker..";
    private static final String DISPATCHER = "io.tern.dispatcher..";
    private static final String GLOBAL_SCHEDULER = "io.tern.scheduler..";
    private static final String RATE_CONTROLLER = "io.tern.ratecontrol..";
    private static final String BYPASS_CONSUMER = "io.tern.bypass..";
    private static final String DISK_KV_BACKUP = "io.tern.diskkv..";
    private static final String OPS = "io.tern.ops..";
    private static final String LOCAL = "io.tern.local..";
    private static final String LOADTEST = "io.tern.loadtest..";

    /** One slice per package, so a cycle between any two packages of a module is reported. */
    private static final SliceAssignment EACH_PACKAGE = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
            return SliceIdentifier.of(javaClass.getPackageName());
        }

        @Override
        public String getDescription() {
            return "each io.tern package";
        }
    };

    private static final String[] ROLES_AND_TOOLS = {
        LOGIC_NODE, BROKER, DISPATCHER, GLOBAL_SCHEDULER, RATE_CONTROLLER, BYPASS_CONSUMER, DISK_KV_BACKUP, OPS,
        LOCAL, LOADTEST};

    /** The wire format is what devices and every role share; it must build and version on its own. */
    @ArchTest
    static final ArchRule the_wire_protocol_stands_alone = onlyTernDependenciesOn(PROTOCOL)
            .because("devices and every role speak the protocol; it is versioned on its own (protocol/README.md)");

    /** Config loading, the HTTP server, metrics and TLS serve every role, so they can know no role's concerns. */
    @ArchTest
    static final ArchRule the_process_runtime_uses_only_the_protocol = onlyTernDependenciesOn(RUNTIME, PROTOCOL)
            .because("every role builds on runtime; it must not pull in storage, the pipeline or a role");

    /** The SDK ships inside apps: it may carry the wire format and nothing of the server side. */
    @ArchTest
    static final ArchRule the_device_sdk_carries_only_the_protocol = onlyTernDependenciesOn(CLIENT, PROTOCOL)
            .because("the SDK ships inside apps and must not drag server code with it");

    /** Redis and Kafka records sit below every user of them. */
    @ArchTest
    static final ArchRule the_store_knows_no_user_of_it = noClasses().that().resideInAPackage(STORE)
            .should().dependOnClassesThat().resideInAnyPackage(concat(ROLES_AND_TOOLS, PIPELINE, CLIENT, DEVSTACK))
            .because("the key schema and repositories are shared by the pipeline and every role");

    /** The pipeline is shared by the roles that deliver (logic node, bypass consumer): it can know none of them. */
    @ArchTest
    static final ArchRule the_pipeline_serves_roles_and_knows_none = noClasses().that().resideInAPackage(PIPELINE)
            .should().dependOnClassesThat().resideInAnyPackage(concat(ROLES_AND_TOOLS, CLIENT, DEVSTACK))
            .because("logic nodes and bypass consumers both run the pipeline");

    /** No HTTP in the pipeline: its services raise PushException, each role's http package maps it. */
    @ArchTest
    static final ArchRule the_pipeline_speaks_no_http = noClasses().that().resideInAPackage(PIPELINE)
            .should().dependOnClassesThat().resideInAPackage("io.tern.runtime.http..")
            .because("services raise io.tern.pipeline.error.PushException; only a role's http package maps it to a status");

    /** API errors and the API's JSON mapper belong to the HTTP edge; domain code raises domain errors. */
    @ArchTest
    static final ArchRule only_the_http_edge_speaks_http_errors = noClasses()
            .that().resideOutsideOfPackages("..http..", "..admin..")
            .should().dependOnClassesThat().areAssignableTo(ApiException.class)
            .orShould().accessField(HttpServer.class, "JSON")
            .because("a service raises a domain error (e.g. PushException); only http / admin packages map it to HTTP");

    /** A role is one job; shared code lives in a module both roles depend on. Only local and loadtest assemble roles. */
    @ArchTest
    static final ArchRule roles_do_not_depend_on_each_other = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .layer("logic-node").definedBy(LOGIC_NODE)
            .layer("broker").definedBy(BROKER)
            .layer("dispatcher").definedBy(DISPATCHER)
            .layer("global-scheduler").definedBy(GLOBAL_SCHEDULER)
            .optionalLayer("rate-controller").definedBy(RATE_CONTROLLER)
            .optionalLayer("bypass-consumer").definedBy(BYPASS_CONSUMER)
            .optionalLayer("disk-kv-backup").definedBy(DISK_KV_BACKUP)
            .layer("ops").definedBy(OPS)
            .layer("local").definedBy(LOCAL)
            .optionalLayer("loadtest").definedBy(LOADTEST)
            .whereLayer("logic-node").mayOnlyBeAccessedByLayers("local", "loadtest")
            .whereLayer("broker").mayOnlyBeAccessedByLayers("local", "loadtest")
            .whereLayer("dispatcher").mayOnlyBeAccessedByLayers("local", "loadtest")
            .whereLayer("global-scheduler").mayOnlyBeAccessedByLayers("local", "loadtest")
            .whereLayer("rate-controller").mayOnlyBeAccessedByLayers("local", "loadtest")
            .whereLayer("bypass-consumer").mayOnlyBeAccessedByLayers("local", "loadtest")
            .whereLayer("disk-kv-backup").mayOnlyBeAccessedByLayers("local", "loadtest")
            .whereLayer("ops").mayNotBeAccessedByAnyLayer()
            .whereLayer("local").mayOnlyBeAccessedByLayers("loadtest")
            .whereLayer("loadtest").mayNotBeAccessedByAnyLayer()
            .because("a role is one job and deploys alone; local (the one-machine runner) and loadtest assemble them");

    /** The dev Redis and in-process Kafka never reach a production process. */
    @ArchTest
    static final ArchRule dev_infrastructure_stays_out_of_production_code = noClasses()
            .that().resideOutsideOfPackages(DEVSTACK, LOCAL, LOADTEST)
            .should().dependOnClassesThat().resideInAPackage(DEVSTACK)
            .because("devstack starts a Kafka server and Redis for dev mode and tests only");

    /** ternctl is what SREs install: a client of the admin APIs, shipping neither a role nor the dev Kafka. */
    @ArchTest
    static final ArchRule the_sre_cli_carries_no_role_and_no_devstack = noClasses().that().resideInAPackage(OPS)
            .should().dependOnClassesThat().resideInAnyPackage(LOGIC_NODE, BROKER, DISPATCHER,
                    GLOBAL_SCHEDULER, RATE_CONTROLLER, BYPASS_CONSUMER, DISK_KV_BACKUP, LOCAL, LOADTEST, STORE, PIPELINE, CLIENT,
                    DEVSTACK)
            .because("ternctl talks to the roles over their admin APIs; the local runner (io.tern.local) assembles them");

    /** Packages of a module form a tree of concerns: a cycle means two concerns are one, or one is misplaced. */
    @ArchTest
    static final ArchRule packages_form_no_cycles = slices().assignedFrom(EACH_PACKAGE)
            .should().beFreeOfCycles()
            .because("a package is one concern; concerns that need each other are one concern or have one misplaced");

    /**
     * Guards the rules above from passing on an empty import: every module with main code (but loadtest)
     * must be on this classpath, so a new module is checked once local depends on it.
     */
    @ArchTest
    static void every_module_with_code_is_checked(JavaClasses imported) {
        Set<String> importedRoots = imported.stream()
                .map(JavaClass::getPackageName)
                .filter(name -> name.startsWith("io.tern."))
                .map(name -> name.split("\\.")[2])
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> expected = modulesWithCode();
        expected.remove("loadtest"); // depends on local: cannot be on its classpath
        expected.removeAll(importedRoots);
        assertEquals(Set.of(), expected, "io.tern packages with main code that local does not see: add the module as a local dependency");
    }

    private static ArchRule onlyTernDependenciesOn(String module, String... allowed) {
        return classes().that().resideInAPackage(module)
                .should().onlyDependOnClassesThat(resideOutsideOfPackage("io.tern..")
                        .or(resideInAnyPackage(concat(allowed, module))));
    }

    private static String[] concat(String[] packages, String... more) {
        return Stream.concat(Stream.of(packages), Stream.of(more)).toArray(String[]::new);
    }

    /** Top-level io.tern packages with at least one main source file in some module of the repository. */
    private static Set<String> modulesWithCode() {
        Path repository = Path.of(System.getProperty("basedir", "")).toAbsolutePath().getParent();
        try (Stream<Path> modules = Files.list(repository)) {
            List<Path> roots = modules.map(m -> m.resolve("src/main/java/io/tern")).filter(Files::isDirectory).toList();
            Set<String> names = new TreeSet<>();
            for (Path root : roots) {
                try (Stream<Path> sources = Files.walk(root)) {
                    sources.filter(p -> p.toString().endsWith(".java"))
                            .map(p -> root.relativize(p).getName(0).toString())
                            .filter(name -> !name.endsWith(".java"))
                            .forEach(names::add);
                }
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
