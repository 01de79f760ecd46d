package io.tern.scheduler.policy;

/** A refused policy change: what, why in words, and the request field at fault (or null). */
public final class RefusedException extends RuntimeException {
    private final Refusal refusal;
    private final String field;

    RefusedException(Refusal refusal, String message, String field) {
        super(message, null, false, false);
        this.refusal = refusal;
        this.field = field;
    }

    public Refusal refusal() {
        return refusal;
    }

    public String field() {
        return field;
    }
}
