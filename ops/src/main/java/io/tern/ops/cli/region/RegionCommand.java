package io.tern.ops.cli.region;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tern.ops.cli.admin.AdminClient;
import io.tern.ops.cli.admin.ApiError;
import io.tern.ops.cli.admin.ProgressLine;
import io.tern.ops.cli.admin.UsageException;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code ternctl region list|failover|failback|watch|history}: the SRE's side of the global scheduler's
 * admin API. Exit status 0 on success, {@value #API_ERROR} when the scheduler refused the call (its message
 * and field printed) or could not be reached, {@value #USAGE} for a wrong command line.
 */
public final class RegionCommand {
    public static final int OK = 0;
    public static final int API_ERROR = 1;
    public static final int USAGE = 2;
    static final Duration POLL = Duration.ofSeconds(1);

    private final PrintStream out;
    private final PrintStream err;
    private final boolean tty;
    private final Map<String, String> env;
    private final Clock clock;
    private final Duration poll;

    /**
     * @param tty  whether {@code out} is a terminal: watch then redraws one line with {@code \r}; otherwise
     *             it prints a line whenever the progress changes
     * @param poll how often watch asks for the move's progress
     */
    public RegionCommand(PrintStream out, PrintStream err, boolean tty, Map<String, String> env, Clock clock, Duration poll) {
        this.out = out;
        this.err = err;
        this.tty = tty;
        this.env = env;
        this.clock = clock;
        this.poll = poll;
    }

    /** On this process's terminal and environment. */
    public static RegionCommand onConsole() {
        return new RegionCommand(System.out, System.err, System.console() != null, System.getenv(), Clock.systemUTC(), POLL);
    }

    /** @param args what follows {@code ternctl region} */
    public int run(List<String> args) {
        if (args.isEmpty() || args.contains("-h") || args.contains("--help") || args.get(0).equals("help")) {
            (args.isEmpty() ? err : out).println(usage());
            return args.isEmpty() ? USAGE : OK;
        }
        RegionArgs a;
        try {
            a = RegionArgs.parse(args, env);
        } catch (UsageException e) {
            err.println("usage error: " + e.getMessage());
            err.println(usage());
            return USAGE;
        }
        AdminClient client = new AdminClient(a.scheduler(), a.token());
        try {
            return switch (a.action()) {
                case LIST -> print(a, client.get("/v1/regions"), RegionView::regions);
                case HISTORY -> print(a, client.get("/v1/regions/history?limit=" + a.limit()), RegionView::history);
                case FAILOVER, FAILBACK -> print(a, client.post(path(a.region()) + "/" + a.action().word, body(a), a.ifMatch()),
                        json -> RegionView.accepted(a, json));
                case WATCH -> watch(a, client);
            };
        } catch (ApiError e) {
            if (a.json()) {
                out.println(e.raw());
            }
            err.println(RegionView.error(e));
            return API_ERROR;
        } catch (IOException e) {
            err.println("error: cannot reach the global scheduler at " + a.scheduler() + ": " + describe(e)
                    + " (set --scheduler or " + RegionArgs.SCHEDULER_ENV + ")");
            return API_ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return API_ERROR;
        }
    }

    private int print(RegionArgs a, AdminClient.Answer answer, Function<JsonNode, String> render) {
        if (a.json()) {
            out.println(answer.raw());
        } else {
            String text = render.apply(answer.json());
            out.print(text.endsWith(System.lineSeparator()) ? text : text + System.lineSeparator());
        }
        out.flush();
        return OK;
    }

    private static ObjectNode body(RegionArgs a) {
        ObjectNode b = AdminClient.JSON.createObjectNode();
        if (a.to() != null) {
            b.put("to", a.to());
        }
        if (a.ratePerSecond() != null) {
            b.put("ratePerSecond", a.ratePerSecond());
        }
        if (a.reason() != null) {
            b.put("reason", a.reason());
        }
        return b;
    }

    private static String path(String region) {
        return "/v1/regions/" + URLEncoder.encode(region, StandardCharsets.UTF_8);
    }

    /**
     * Polls the move's progress until the region stops moving, the timeout passes (exit 1: the move goes on,
     * only the watching stops) or Ctrl-C. On a terminal one line is redrawn; otherwise a line is printed when
     * the progress changes.
     */
    private int watch(RegionArgs a, AdminClient client) throws ApiError, IOException, InterruptedException {
        Instant deadline = clock.instant().plus(a.timeout());
        try (ProgressLine line = new ProgressLine(out, tty && !a.json())) {
            while (true) {
                JsonNode p = client.get(path(a.region()) + "/move").json();
                boolean moving = RegionView.moving(p);
                if (a.json()) {
                    String compact = p.toString();
                    line.show(compact, compact);
                } else if (!line.shownAny() && !moving && !p.hasNonNull("from")) {
                    out.println("no move under way: " + a.region() + " is " + p.path("state").asText("-"));
                    return OK;
                } else {
                    String text = RegionView.progress(p, clock.instant());
                    // Compared without the elapsed time, so a stalled move does not print a line a second.
                    Instant started = RegionView.instant(p.path("startedAt"));
                    line.show(text, started == null ? text : RegionView.progress(p, started));
                }
                if (!moving) {
                    return OK;
                }
                if (!clock.instant().isBefore(deadline)) {
                    line.end();
                    err.println("watch timed out after " + a.timeout().toString().substring(2).toLowerCase(Locale.ROOT) + "; the move goes on (ternctl region watch "
                            + a.region() + " to follow it again)");
                    return API_ERROR;
                }
                Thread.sleep(poll.toMillis());
            }
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : " " + m);
    }

    public static String usage() {
        return """
                usage: ternctl region <command> [--scheduler URL] [--token T] [--output text|json]
                  list                                      regions: state, who serves them, brokers, connections, move
                  failover <from> --to <to> [--rate N] [--reason TEXT] [--if-match VERSION]
                                                            move <from>'s devices to <to> at N redirects/s
                  failback <region> [--rate N] [--reason TEXT] [--if-match VERSION]
                                                            move the region's devices back home
                  watch <region> [--timeout 30m]            progress of the region's move until it is done (Ctrl-C stops watching)
                  history [--limit 20]                      the policy's audit log, newest first
                The scheduler's admin API is --scheduler or $TERN_SCHEDULER_URL (default http://127.0.0.1:8082);
                the SRE token --token or $TERN_SRE_TOKEN. --output json prints the API's JSON.
                Exit status: 0 done, 1 the scheduler refused (its message and field are printed) or is unreachable,
                2 a wrong command line.""";
    }
}
