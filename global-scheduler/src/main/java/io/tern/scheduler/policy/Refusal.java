package io.tern.scheduler.policy;

/**
 * Why an SRE's change to the region policy was refused. Codes are stable: the admin API sends them
 * as {@code code}, and ternctl may match on them.
 */
public enum Refusal {
    UNKNOWN_REGION("region_not_found"),
    INVALID_FIELD("invalid_field"),
    REGION_MOVING("region_moving"),
    REGION_NOT_ACTIVE("region_not_active"),
    REGION_NOT_FAILED_OVER("region_not_failed_over"),
    TARGET_UNAVAILABLE("target_unavailable"),
    STALE_VERSION("version_conflict");

    private final String code;

    Refusal(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }

    /** The refusal as an exception; {@code field} names the request field at fault, or null. */
    public RefusedException because(String message, String field) {
        return new RefusedException(this, message, field);
    }

    public RefusedException because(String message) {
        return because(message, null);
    }
}
