package io.tern.local.chaos;

import io.tern.client.PushMessage;
import io.tern.local.e2e.Devices;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Where every accepted message of one chaos run ended up, once the recovery window is over:
 * delivered (the device has it), queued (its device is offline and the platform still holds it for it),
 * expired, stranded (its device is online and the platform holds it but it never arrived) or lost (not
 * delivered and the platform no longer knows it, or calls it delivered). Group copies are counted per
 * device by their marker; an undelivered one to an online device is stranded.
 *
 * @param unacked         single pushes delivered whose status did not become {@code delivered} (receipt applied)
 *                        within the bound
 * @param strandedBy      stranded single pushes by the status the platform gives them (what to look at first)
 * @param recoverySeconds the longest a message to a device that stayed online waited because of the fault: from
 *                        the kill (or its first submission, if later) to its delivery
 */
public record Tally(String fault, int accepted, int delivered, int queued, int expired, int stranded, int lost,
             long duplicates, double recoverySeconds, long unacked, String refusals, Map<String, Integer> strandedBy) {

    public static String header() {
        return String.format("%-11s %8s %9s %6s %7s %8s %4s %5s %10s %7s  %s", "fault", "accepted", "delivered", "queued",
                "expired", "stranded", "lost", "dups", "recovery s", "unacked", "refused answers (retried)");
    }

    public String row() {
        return String.format("%-11s %8d %9d %6d %7d %8d %4d %5d %10.2f %7d  %s", fault, accepted, delivered, queued, expired,
                stranded, lost, duplicates, recoverySeconds, unacked, refusals)
                + (strandedBy.isEmpty() ? "" : "; stranded by status " + strandedBy);
    }

    /**
     * @param online      device name → connected now
     * @param groupCopies device names the group push targeted (valid regIds)
     */
    public static Tally of(String fault, List<PushStream.Accepted> singles, String groupMarker, List<String> groupCopies,
                    Devices devices, Predicate<String> online, Set<String> wereOffline, PushStream api, long killNanos,
                    long duplicates, long unacked) {
        int delivered = 0;
        int queued = 0;
        int expired = 0;
        int stranded = 0;
        int lost = 0;
        long worstWait = 0;
        Map<String, Integer> strandedBy = new java.util.TreeMap<>();
        for (PushStream.Accepted a : singles) {
            Optional<PushMessage> got = devices.receivedBy(a.device()).stream().filter(m -> m.msgId() == a.msgId()).findFirst();
            if (got.isPresent()) {
                delivered++;
                long from = Math.max(killNanos, a.firstAttemptNanos());
                // Devices that were offline get theirs when they come back: their wait measures the test, not the fault.
                if (got.get().receivedAtNanos() > killNanos && !wereOffline.contains(a.device())) {
                    worstWait = Math.max(worstWait, got.get().receivedAtNanos() - from);
                }
                continue;
            }
            String status = api.status(a.msgId()).orElse("unknown");
            switch (status) {
                case "expired" -> expired++;
                case "404", "delivered" -> lost++;
                default -> {
                    if (online.test(a.device())) {
                        stranded++;
                        strandedBy.merge(status, 1, Integer::sum);
                    } else {
                        queued++;
                    }
                }
            }
        }
        for (String device : groupCopies) {
            boolean got = devices.receivedBy(device).stream().anyMatch(m -> m.payload().contains(groupMarker));
            if (got) {
                delivered++;
            } else if (online.test(device)) {
                stranded++;
            } else {
                queued++;
            }
        }
        return new Tally(fault, singles.size() + groupCopies.size(), delivered, queued, expired, stranded, lost, duplicates,
                worstWait / 1e9, unacked, api.refusalSummary(), strandedBy);
    }

    /** Distinct msgIds a device got more than once (after the SDK's own de-duplication). */
    public static long repeats(Devices devices, Set<String> names) {
        long n = 0;
        for (String d : names) {
            List<PushMessage> got = devices.receivedBy(d);
            n += got.size() - got.stream().map(PushMessage::msgId).distinct().count();
        }
        return n;
    }

}
