package io.tern.protocol.frame;

/** What a PUSH payload holds. Codes are final. */
public enum PayloadKind {
    /** {"title","body"}: the SDK shows it. */
    NOTIFICATION(1),
    /** An app-defined JSON object handed to the app. */
    DATA(2);

    private final int code;

    PayloadKind(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static PayloadKind fromCode(int code) {
        for (PayloadKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        return null;
    }
}
