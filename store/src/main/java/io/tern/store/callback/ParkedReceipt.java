package io.tern.store.callback;

/**
 * A receipt waiting in the {@link CallbackOutbox} for its callback POST. {@code ack-device.lua} parks it in the
 * same script run that records its ack, and writes the format read here: {@link #idOf} and {@link #decode}
 * are the one definition of it (the script mirrors them; AckRepositoryIT reads what it wrote).
 *
 * @param targetId msgId of a single push, or taskId of a group push ({@code task})
 * @param param    the app's callback parameter, "" when it set none
 */
public record ParkedReceipt(String appId, String url, long targetId, boolean task, String regId, String param,
                            long ackedAtMillis) {
    /** Unit separator: no appId, URL, regId or decimal number contains it. */
    private static final char SEP = '\u001f';

    /** Stable per receipt: parking it again (a replayed ack) overwrites instead of duplicating. */
    public String id() {
        return idOf(appId, targetId, task, regId);
    }

    /** appId, then {@code t|m} and the target id, then regId, separated by {@code \u001f}. */
    public static String idOf(String appId, long targetId, boolean task, String regId) {
        return appId + SEP + (task ? 't' : 'm') + targetId + SEP + regId;
    }

    /** appId, url, targetId, {@code t|m}, regId, param, ackedAtMillis, separated by {@code \u001f}. */
    public static ParkedReceipt decode(String s) {
        String[] f = s.split(String.valueOf(SEP), -1);
        if (f.length != 7) {
            throw new IllegalArgumentException("not a parked receipt: " + f.length + " fields");
        }
        return new ParkedReceipt(f[0], f[1], Long.parseLong(f[2]), "t".equals(f[3]), f[4], f[5], Long.parseLong(f[6]));
    }
}
