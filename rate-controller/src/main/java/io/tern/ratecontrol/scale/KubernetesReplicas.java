package io.tern.ratecontrol.scale;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.RollableScalableResource;

/**
 * The bypass consumers as a Kubernetes Deployment: replicas are read from its spec and set through its scale
 * subresource, so the scaler needs only {@code get} and {@code patch} on {@code deployments/scale} and never
 * touches the pod template.
 */
public final class KubernetesReplicas implements ReplicaTarget {
    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final String name;

    /** The API server the fabric8 client finds (in-cluster service account, else kubeconfig). */
    public static KubernetesReplicas connect(String namespace, String deployment) {
        return new KubernetesReplicas(new KubernetesClientBuilder().build(), true, namespace, deployment);
    }

    /** On a client the caller keeps (tests: the mock server's). */
    public KubernetesReplicas(KubernetesClient client, String namespace, String deployment) {
        this(client, false, namespace, deployment);
    }

    private KubernetesReplicas(KubernetesClient client, boolean ownsClient, String namespace, String deployment) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.namespace = namespace;
        this.name = deployment;
    }

    private RollableScalableResource<Deployment> deployment() {
        return client.apps().deployments().inNamespace(namespace).withName(name);
    }

    @Override
    public int replicas() {
        Deployment d = deployment().get();
        if (d == null) {
            throw new IllegalStateException("no deployment " + namespace + "/" + name);
        }
        Integer r = d.getSpec() == null ? null : d.getSpec().getReplicas();
        // Kubernetes defaults an unset replicas field to 1.
        return r == null ? 1 : r;
    }

    @Override
    public int setReplicas(int replicas) {
        deployment().scale(replicas);
        return replicas;
    }

    @Override
    public String describe() {
        return "deployment " + namespace + "/" + name;
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }
}
