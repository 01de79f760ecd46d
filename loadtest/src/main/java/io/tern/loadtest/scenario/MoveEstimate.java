package io.tern.loadtest.scenario;

/**
 * How long moving a region's devices takes when two limits pace it: the move rate the SRE asked for (the
 * moving region's brokers send that many REGION_MOVED per second between them) and the admission caps of the
 * brokers the devices land on (each admits at most {@code capPerBroker} connects per second, refusing the rest
 * SERVER_BUSY to retry later). The slower of the two sets the pace; the stage plan and reconnect latency add a
 * little on top, which {@code efficiency} (measured devices/s ÷ asked rate, at most 1) carries over from a run.
 */
record MoveEstimate(long devices, int ratePerSecond, int targetBrokers, int capPerBroker, double efficiency) {
    MoveEstimate {
        if (devices < 0 || ratePerSecond < 1 || targetBrokers < 1 || capPerBroker < 0 || efficiency <= 0 || efficiency > 1) {
            throw new IllegalArgumentException("devices >= 0, rate >= 1, targetBrokers >= 1, cap >= 0 (0 = uncapped), "
                    + "efficiency in (0, 1]");
        }
    }

    /** All target brokers' caps together, per second; {@code Long.MAX_VALUE} when uncapped. */
    long admissionCapacity() {
        return capPerBroker == 0 ? Long.MAX_VALUE : (long) targetBrokers * capPerBroker;
    }

    /** Devices per second the move proceeds at: the lower limit, times the measured efficiency. */
    double pace() {
        return Math.min(ratePerSecond, admissionCapacity()) * efficiency;
    }

    /** Which limit binds: "move rate" or "admission caps". */
    String bound() {
        return ratePerSecond <= admissionCapacity() ? "move rate" : "admission caps";
    }

    double seconds() {
        return devices / pace();
    }

    /** Admissions per second each target broker sees at that pace. */
    double perBroker() {
        return pace() / targetBrokers;
    }

    /** The arithmetic in one line, for the report and docs/benchmarks.md. */
    String explain() {
        String cap = capPerBroker == 0 ? "uncapped" : String.format("%,d × %,d/s = %,d/s", targetBrokers, capPerBroker,
                admissionCapacity());
        return String.format("%,d devices ÷ (min(move rate %,d/s, admission caps %s)%s = %,.0f/s) = %,.0f s (%.1f min); "
                        + "bound by the %s; %,.0f admissions/s per target broker", devices, ratePerSecond, cap,
                efficiency < 1 ? String.format(" × measured efficiency %.2f", efficiency) : "", pace(), seconds(),
                seconds() / 60, bound(), perBroker());
    }
}
