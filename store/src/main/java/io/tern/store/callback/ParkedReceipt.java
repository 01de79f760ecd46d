package io.tern.store.callback;

/**
 * A receipt waiting in the {@link CallbackOutbox} for its callback POST.
 *
 * @param targetId msgId of a single push, or taskId of a group push ({@code task})
 */
public record ParkedReceipt(String appId, String url, long targetId, boolean task, String regId, String param,
                            long ackedAtMillis) {
    private static final char SEP = '\u001f';

    /** Stable per receipt: parking it again (a replayed ack) overwrites instead of duplicating. */
    public String id() {
        return idOf(appId, targetId, task, regId);
    }

    public static String idOf(String appId, long targetId, boolean task, String regId) {
        return appId + SEP + (task ? 't' : 'm') + targetId + SEP + regId;
    }

    String encode() {
        return String.join(String.valueOf(SEP), appId, url, Long.toString(targetId), task ? "t" : "m", regId,
                param == null ? "" : param, Long.toString(ackedAtMillis));
    }

    static ParkedReceipt decode(String s) {
        String[] f = s.split(String.valueOf(SEP), -1);
        if (f.length != 7) {
            throw new IllegalArgumentException("not a parked receipt: " + f.length + " fields");
        }
        return new ParkedReceipt(f[0], f[1], Long.parseLong(f[2]), "t".equals(f[3]), f[4], f[5], Long.parseLong(f[6]));
    }
}
