package io.tern.ratecontrol.scale;

/**
 * Where the bypass consumers run: the scaler reads how many there are and sets how many there should be,
 * the same decision whatever runs them. Calls may block (an API server, process start-up): the scaler makes
 * them from its own thread, never an event loop.
 */
public interface ReplicaTarget extends AutoCloseable {

    /** Replicas asked for now (what was last set, by this scaler or by hand). */
    int replicas();

    /** Asks for {@code replicas}; returns the number now asked for (an implementation may bound it). */
    int setReplicas(int replicas);

    /** For people: what is being scaled ("deployment default/tern-bypass-consumer"). */
    String describe();

    @Override
    void close();
}
