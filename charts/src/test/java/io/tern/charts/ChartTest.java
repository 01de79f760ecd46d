package io.tern.charts;

import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.tern.broker.config.BrokerConfig;
import io.tern.bypass.config.BypassConfig;
import io.tern.dispatcher.config.DispatcherConfig;
import io.tern.logic.config.LogicConfig;
import io.tern.ratecontrol.config.RateControllerConfig;
import io.tern.ratecontrol.scale.ScaleConfig;
import io.tern.runtime.config.Settings;
import io.tern.scheduler.config.SchedulerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * charts/tern rendered and linted by Helm (helm-java), every manifest parsed with the fabric8 model and held
 * against the roles' real config records: each container's environment is parsed by its role's
 * {@code Config.from(Settings)}, which must accept it and read every key it is given.
 */
class ChartTest {
    /** What an operator creates before installing: secrets.existingSecret and the example's other Secrets. */
    private static final Map<String, Map<String, String>> OPERATOR_SECRETS = Map.of(
            "tern-secrets", Map.of(
                    "token-secret", "connect-token-secret-for-tests",
                    "cluster-secret", "cluster-secret-for-the-tests",
                    "auth-token-secret", "auth-token-secret-for-tests",
                    "device-key", "device-key-for-the-chart-test",
                    "sre-token", "sre-token-for-the-chart-test",
                    "client-keys", "demo=demo-client-key",
                    "apps.properties", "logic.apps.demo.key=demo-key\nlogic.apps.demo.secret=demo-secret-of-the-chart-test\n"),
            "tern-redis", Map.of("uri", "redis://:redis-password@redis-master.data.svc:6379"),
            // TlsConfig checks the files are readable; their PEM is parsed only when a port starts.
            "tern-tls", Map.of("tls.crt", "certificate", "tls.key", "key", "ca.crt", "ca"));

    /** secrets.create with every value set through --set, as `helm install --set` would. */
    private static final Map<String, String> CREATED_SECRETS = Map.of(
            "secrets.create", "true",
            "secrets.values.tokenSecret", "connect-token-secret-created",
            "secrets.values.clusterSecret", "cluster-secret-created-here",
            "secrets.values.authTokenSecret", "auth-token-secret-created",
            "secrets.values.deviceKey", "device-key-created-by-chart",
            "secrets.values.sreToken", "sre-token-created-by-chart");

    static Stream<Arguments> renders() {
        return Stream.of(
                Arguments.of("default values", null, Map.of()),
                Arguments.of("default values, chart-made Secret", null, CREATED_SECRETS),
                Arguments.of("three regions", Chart.THREE_REGIONS, Map.of()),
                Arguments.of("a Redis Cluster", null, Map.of("redis.uri", "redis-cluster://r1:6379,r2:6379,r3:6379")));
    }

    @Test
    void defaultValuesLintWithoutWarnings(@TempDir Path dir) {
        LintResult lint = Chart.lint(null, dir);
        assertFalse(lint.isFailed(), String.join("\n", lint.getMessages()));
    }

    @Test
    void threeRegionExampleLintsWithoutWarnings(@TempDir Path dir) {
        LintResult lint = Chart.lint(Chart.THREE_REGIONS, dir);
        assertFalse(lint.isFailed(), String.join("\n", lint.getMessages()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renders")
    void everyContainerIsAcceptedByItsRolesConfigWhichReadsEveryKeyItIsGiven(String name, Path values,
                                                                             Map<String, String> set, @TempDir Path dir) {
        List<HasMetadata> objects = Chart.render(values, set);
        Set<Role> seen = new TreeSet<>();
        for (Workload w : workloads(objects)) {
            Container c = w.container();
            Role role = Role.of(c.getName());
            seen.add(role);
            Map<String, String> env = Pod.env(w.pod().getSpec(), c, w.podName(), secrets(objects), dir.resolve(w.podName()));
            for (String var : env.keySet()) {
                assertTrue(!var.startsWith("TERN_") || var.equals("TERN_CONFIG") || var.startsWith(role.envPrefix()),
                        w.name() + " sets " + var + ", which the " + role.section + " config never reads");
            }
            Settings settings = Settings.load(null, env, Map.of());
            Object config = role.parse(settings);
            assertEquals(List.of(), settings.unread(role.section + "."), w.name() + ": keys its config does not read");

            // Container ports are the ports the config binds.
            Map<String, Integer> ports = new HashMap<>();
            for (ContainerPort p : c.getPorts()) {
                ports.put(p.getName(), p.getContainerPort());
            }
            assertEquals(role.ports(config), ports, w.name() + ": container ports against the config's ports");

            // Both probes ask /health on the port that serves it, over TLS when that port speaks it.
            for (Probe probe : List.of(c.getReadinessProbe(), c.getLivenessProbe())) {
                assertNotNull(probe, w.name() + ": probe missing");
                HTTPGetAction get = probe.getHttpGet();
                assertEquals("/health", get.getPath(), w.name());
                assertEquals(role.healthPort(), get.getPort().getStrVal(), w.name());
                assertEquals(role.healthOverTls(config) ? "HTTPS" : "HTTP", get.getScheme(), w.name());
            }

            assertTrue(c.getImage().endsWith("tern/" + role.container + ":" + (values == null ? "0.1.0-SNAPSHOT" : "0.1.0")),
                    c.getImage());
            assertNotNull(c.getResources().getRequests().get("cpu"), w.name() + ": cpu request");
            assertNotNull(c.getResources().getRequests().get("memory"), w.name() + ": memory request");
            assertEquals(Boolean.TRUE, w.pod().getSpec().getSecurityContext().getRunAsNonRoot(), w.name());
            // A read-only root, but Netty and the Kafka client unpack native libraries into /tmp.
            assertEquals(Boolean.TRUE, c.getSecurityContext().getReadOnlyRootFilesystem(), w.name());
            assertTrue(c.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp")), w.name() + ": /tmp");
        }
        assertEquals(Set.of(Role.values()), seen, "every role runs");
    }

    @Test
    void defaultPortsAreTheConfigRecordsDefaults() {
        for (Workload w : workloads(Chart.render(null, Map.of()))) {
            Role role = Role.of(w.container().getName());
            Map<String, Integer> ports = w.container().getPorts().stream()
                    .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
            assertEquals(role.ports(role.defaults()), ports, w.name());
        }
    }

    @Test
    void imagesExposeTheConfigRecordsDefaultPorts() throws Exception {
        for (Role role : Role.values()) {
            // The role module's pom, whose jib.container.ports the -Pimages build writes into the image config.
            Path pom = Path.of("..", role.container, "pom.xml");
            NodeList found = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile())
                    .getElementsByTagName("jib.container.ports");
            assertEquals(1, found.getLength(), pom + ": jib.container.ports");
            Set<Integer> exposed = Stream.of(found.item(0).getTextContent().split(","))
                    .map(p -> Integer.valueOf(p.trim())).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(new TreeSet<>(role.ports(role.defaults()).values()), exposed, pom.toString());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renders")
    void servicesAndDisruptionBudgetsSelectTheirPodsAndNamedPorts(String name, Path values, Map<String, String> set) {
        List<HasMetadata> objects = Chart.render(values, set);
        List<Workload> workloads = workloads(objects);
        for (Service s : of(objects, Service.class)) {
            Map<String, String> selector = s.getSpec().getSelector();
            List<Workload> selected = workloads.stream()
                    .filter(w -> w.selectedBy(selector)).toList();
            assertEquals(1, selected.stream().map(Workload::name).distinct().count(),
                    "Service " + s.getMetadata().getName() + " selects the pods of exactly one workload");
            Set<String> named = selected.get(0).container().getPorts().stream().map(ContainerPort::getName)
                    .collect(Collectors.toSet());
            for (ServicePort p : s.getSpec().getPorts()) {
                assertTrue(named.contains(p.getTargetPort().getStrVal()), s.getMetadata().getName() + " targets " + p.getTargetPort());
            }
        }
        Set<String> budgeted = new LinkedHashSet<>();
        for (PodDisruptionBudget pdb : of(objects, PodDisruptionBudget.class)) {
            Map<String, String> selector = pdb.getSpec().getSelector().getMatchLabels();
            List<String> selected = workloads.stream()
                    .filter(w -> w.selectedBy(selector)).map(Workload::name).toList();
            assertEquals(1, selected.size(), "PDB " + pdb.getMetadata().getName() + " covers " + selected);
            budgeted.addAll(selected);
        }
        assertEquals(workloads.stream().map(Workload::name).collect(Collectors.toSet()), budgeted, "a PDB for every workload");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renders")
    void theRateControllersScalerScalesTheBypassConsumersDeployment(String name, Path values, Map<String, String> set,
                                                                    @TempDir Path dir) {
        List<HasMetadata> objects = Chart.render(values, set);
        Workload controller = workload(objects, Role.RATE_CONTROLLER);
        RateControllerConfig config = (RateControllerConfig) Role.RATE_CONTROLLER.parse(Settings.load(null,
                Pod.env(controller.pod().getSpec(), controller.container(), controller.podName(), secrets(objects), dir), Map.of()));
        ScaleConfig scale = config.scale();
        Workload bypass = workload(objects, Role.BYPASS_CONSUMER);
        assertEquals(ScaleConfig.Mode.KUBERNETES, scale.mode());
        assertEquals(bypass.name(), scale.deployment());
        assertEquals("Deployment", bypass.kind());
        assertEquals(Chart.NAMESPACE, scale.namespace());
        assertEquals(ScaleConfig.DEFAULT_DEPLOYMENT, bypass.name(), "release tern: the scaler's own default name");
        // The scaler owns the replicas: the chart sets none, so an upgrade does not undo a scale.
        assertEquals(null, ((Deployment) bypass.object()).getSpec().getReplicas());

        // Its service account may scale exactly that Deployment.
        String account = controller.pod().getSpec().getServiceAccountName();
        RoleBinding binding = of(objects, RoleBinding.class).stream()
                .filter(b -> b.getSubjects().stream().anyMatch(s -> s.getName().equals(account))).findFirst()
                .orElseThrow(() -> new AssertionError("no RoleBinding for " + account));
        io.fabric8.kubernetes.api.model.rbac.Role rbac = of(objects, io.fabric8.kubernetes.api.model.rbac.Role.class).stream()
                .filter(r -> r.getMetadata().getName().equals(binding.getRoleRef().getName())).findFirst().orElseThrow();
        PolicyRule scaleRule = rbac.getRules().stream().filter(r -> r.getResources().contains("deployments/scale"))
                .findFirst().orElseThrow();
        assertEquals(List.of(bypass.name()), scaleRule.getResourceNames());
        assertTrue(scaleRule.getVerbs().containsAll(List.of("get", "patch", "update")), scaleRule.getVerbs().toString());
    }

    @Test
    void withScalingOffTheRateControllerStillReadsTheBuffersLagFromTheReleasesKafka(@TempDir Path dir) {
        List<HasMetadata> objects = Chart.render(null, Map.of("rateController.scale.enabled", "false"));
        Workload controller = workload(objects, Role.RATE_CONTROLLER);
        ScaleConfig scale = ((RateControllerConfig) Role.RATE_CONTROLLER.parse(Settings.load(null,
                Pod.env(controller.pod().getSpec(), controller.container(), controller.podName(), secrets(objects), dir),
                Map.of()))).scale();
        assertEquals(ScaleConfig.Mode.OFF, scale.mode());
        assertEquals("kafka:9092", scale.kafkaBootstrap(), "the values' kafka.bootstrap, not the one-machine default");
    }

    @Test
    void brokersRunPerRegionAdvertisingTheirOwnPublicAddress(@TempDir Path dir) {
        List<HasMetadata> objects = Chart.render(Chart.THREE_REGIONS, Map.of());
        Map<String, Map<String, String>> secrets = secrets(objects);
        Map<String, Integer> brokersPerRegion = new LinkedHashMap<>();
        for (StatefulSet sts : of(objects, StatefulSet.class)) {
            String region = sts.getMetadata().getLabels().get("tern.io/region");
            int replicas = sts.getSpec().getReplicas();
            brokersPerRegion.put(region, replicas);
            Container c = sts.getSpec().getTemplate().getSpec().getContainers().get(0);
            for (int i = 0; i < replicas; i++) {
                String pod = sts.getMetadata().getName() + "-" + i;
                BrokerConfig b = (BrokerConfig) Role.BROKER.parse(Settings.load(null,
                        Pod.env(sts.getSpec().getTemplate().getSpec(), c, pod, secrets, dir.resolve(pod)), Map.of()));
                assertEquals(region, b.region());
                assertEquals(pod, b.id());
                assertEquals(pod + "." + region + ".push.example.com", b.listeners().advertisedDeviceHost());
                assertEquals(Pod.POD_IP, b.listeners().advertisedInternalHost());
                assertTrue(b.tls().enabled() && !b.tls().plain(), "devices reach brokers over TLS only");

                // Its own Service: the advertised name is published for it, on the ports the broker binds.
                Service svc = of(objects, Service.class).stream().filter(s -> s.getMetadata().getName().equals(pod))
                        .findFirst().orElseThrow(() -> new AssertionError("no Service for " + pod));
                assertEquals("LoadBalancer", svc.getSpec().getType());
                assertEquals(Map.of("statefulset.kubernetes.io/pod-name", pod), svc.getSpec().getSelector());
                assertEquals(b.listeners().advertisedDeviceHost(),
                        svc.getMetadata().getAnnotations().get("external-dns.alpha.kubernetes.io/hostname"));
                assertEquals(Set.of(b.tcpPort(), b.wsPort()),
                        svc.getSpec().getPorts().stream().map(ServicePort::getPort).collect(Collectors.toSet()));
            }
        }
        assertEquals(Map.of("eu-west", 3, "us-east", 3, "ap-south", 2), brokersPerRegion);

        Workload scheduler = workload(objects, Role.GLOBAL_SCHEDULER);
        SchedulerConfig s = (SchedulerConfig) Role.GLOBAL_SCHEDULER.parse(Settings.load(null,
                Pod.env(scheduler.pod().getSpec(), scheduler.container(), scheduler.podName(), secrets, dir), Map.of()));
        assertEquals(List.copyOf(brokersPerRegion.keySet()), s.regions(), "the policy starts with the chart's regions");
        Workload dispatcher = workload(objects, Role.DISPATCHER);
        DispatcherConfig d = (DispatcherConfig) Role.DISPATCHER.parse(Settings.load(null,
                Pod.env(dispatcher.pod().getSpec(), dispatcher.container(), dispatcher.podName(), secrets, dir), Map.of()));
        assertEquals("eu-west", d.defaultRegion());
        Service dispatch = of(objects, Service.class).stream()
                .filter(x -> x.getMetadata().getName().equals(dispatcher.name())).findFirst().orElseThrow();
        assertEquals("LoadBalancer", dispatch.getSpec().getType(), "devices dispatch from outside");
        assertEquals(Map.of("demo", "demo-client-key"), d.devices().clientKeys());
    }

    @Test
    void pipelineSettingsReachLogicNodesAndBypassConsumersAlike(@TempDir Path dir) {
        List<HasMetadata> objects = Chart.render(Chart.THREE_REGIONS, Map.of());
        Workload logic = workload(objects, Role.LOGIC_NODE);
        Workload bypass = workload(objects, Role.BYPASS_CONSUMER);
        LogicConfig l = (LogicConfig) Role.LOGIC_NODE.parse(Settings.load(null,
                Pod.env(logic.pod().getSpec(), logic.container(), logic.podName(), secrets(objects), dir.resolve("l")), Map.of()));
        BypassConfig b = (BypassConfig) Role.BYPASS_CONSUMER.parse(Settings.load(null,
                Pod.env(bypass.pod().getSpec(), bypass.container(), bypass.podName(), secrets(objects), dir.resolve("b")), Map.of()));
        assertEquals(200, l.queueMax());
        assertEquals(l.queueMax(), b.queueMax(), "logic.queue-max and bypass.queue-max must be equal");
        assertEquals(4, l.tagResolvers(), "the logic node's own settings");
        assertEquals(2, b.tagResolvers(), "stay its own");
    }

    @Test
    void serviceMonitorsScrapeEveryRolesMetricsPortWhenEnabled() {
        assertEquals(List.of(), serviceMonitors(Chart.render(null, Map.of())), "off by default");

        List<HasMetadata> objects = Chart.render(Chart.THREE_REGIONS, Map.of());
        List<GenericKubernetesResource> monitors = serviceMonitors(objects);
        Set<String> scraped = new TreeSet<>();
        for (GenericKubernetesResource m : monitors) {
            assertEquals("monitoring.coreos.com/v1", m.getApiVersion());
            Map<String, String> selector = m.get("spec", "selector", "matchLabels");
            List<Map<String, Object>> endpoints = m.get("spec", "endpoints");
            assertEquals(1, endpoints.size());
            assertEquals("/metrics", endpoints.get(0).get("path"));
            List<Service> services = of(objects, Service.class).stream()
                    .filter(s -> matches(selector, s.getMetadata().getLabels(), null)).toList();
            assertFalse(services.isEmpty(), m.getMetadata().getName() + " selects no Service");
            for (Service s : services) {
                assertTrue(s.getSpec().getPorts().stream().anyMatch(p -> p.getName().equals(endpoints.get(0).get("port"))),
                        s.getMetadata().getName() + " has no port " + endpoints.get(0).get("port"));
                scraped.add(s.getMetadata().getLabels().get("app.kubernetes.io/component"));
            }
        }
        assertEquals(Stream.of(Role.values()).map(r -> r.container).collect(Collectors.toCollection(TreeSet::new)), scraped);
    }

    @Test
    void aValueTheSchemaRefusesFailsTheRenderNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Chart.render(null, Map.of("redis.uri", "redis-master:6379")));
        assertTrue(e.getMessage().contains("schema") && e.getMessage().contains("at '/redis/uri': 'redis-master:6379' does not match pattern"),
                e.getMessage());

        IllegalStateException port = assertThrows(IllegalStateException.class,
                () -> Chart.render(null, Map.of("broker.ports.admin", "70000")));
        assertTrue(port.getMessage().contains("at '/broker/ports/admin'"), port.getMessage());
    }

    @Test
    void lintFailsOnAValueTheSchemaRefuses(@TempDir Path dir) {
        LintResult lint = Chart.lint(Path.of("src/test/resources/kafka-without-port.yaml"), dir);
        assertTrue(lint.isFailed(), String.join("\n", lint.getMessages()));
        assertTrue(lint.getMessages().stream().anyMatch(m -> m.contains("at '/kafka/bootstrap': 'kafka' does not match pattern")),
                String.join("\n", lint.getMessages()));
    }

    @Test
    void aRegionListedTwiceFailsTheRenderNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Chart.render(Path.of("src/test/resources/region-twice.yaml"), Map.of()));
        assertTrue(e.getMessage().contains("region \"north\" is listed twice"), e.getMessage());
    }

    /** A Deployment or StatefulSet and its one container, with the name its first pod would get. */
    record Workload(String kind, String name, HasMetadata object, PodTemplateSpec pod) {
        Container container() {
            assertEquals(1, pod.getSpec().getContainers().size(), name);
            return pod.getSpec().getContainers().get(0);
        }

        String podName() {
            return podNames().get(0);
        }

        /** A StatefulSet's pods by ordinal; one made-up name for a Deployment's. */
        List<String> podNames() {
            if (object instanceof StatefulSet s) {
                return java.util.stream.IntStream.range(0, s.getSpec().getReplicas()).mapToObj(i -> name + "-" + i).toList();
            }
            return List.of(name + "-5d8f7c9b4-x2x7q");
        }

        boolean selectedBy(Map<String, String> selector) {
            return podNames().stream().anyMatch(p -> matches(selector, pod.getMetadata().getLabels(), p));
        }
    }

    private static List<Workload> workloads(List<HasMetadata> objects) {
        List<Workload> out = new ArrayList<>();
        for (HasMetadata o : objects) {
            if (o instanceof Deployment d) {
                out.add(new Workload("Deployment", d.getMetadata().getName(), d, d.getSpec().getTemplate()));
            } else if (o instanceof StatefulSet s) {
                out.add(new Workload("StatefulSet", s.getMetadata().getName(), s, s.getSpec().getTemplate()));
            }
        }
        return out;
    }

    private static Workload workload(List<HasMetadata> objects, Role role) {
        List<Workload> found = workloads(objects).stream().filter(w -> w.container().getName().equals(role.container)).toList();
        assertEquals(1, found.size(), role.container);
        return found.get(0);
    }

    /** The operator's Secrets, with those the chart renders laid over them. */
    private static Map<String, Map<String, String>> secrets(List<HasMetadata> objects) {
        Map<String, Map<String, String>> out = new HashMap<>(OPERATOR_SECRETS);
        for (Secret s : of(objects, Secret.class)) {
            out.put(s.getMetadata().getName(), s.getStringData());
        }
        return out;
    }

    private static <T> List<T> of(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static List<GenericKubernetesResource> serviceMonitors(List<HasMetadata> objects) {
        return objects.stream().filter(o -> o.getKind().equals("ServiceMonitor"))
                .map(o -> {
                    if (o instanceof GenericKubernetesResource g) {
                        return g;
                    }
                    return fail("ServiceMonitor parsed as " + o.getClass());
                }).map(GenericKubernetesResource.class::cast).toList();
    }

    /** A selector matches a pod's labels, or the pod name label a StatefulSet's pods carry. */
    private static boolean matches(Map<String, String> selector, Map<String, String> labels, String podName) {
        Map<String, String> all = new HashMap<>(labels);
        if (podName != null) {
            all.put("statefulset.kubernetes.io/pod-name", podName);
        }
        return selector.entrySet().stream().allMatch(e -> e.getValue().equals(all.get(e.getKey())));
    }
}
