package io.tern.ops.cli.admin;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What the admin commands besides {@code region} share ({@code throttle}, {@code scale}, {@code app}, {@code task},
 * {@code status}): help, usage errors,
 * printing an answer as text or as the API's JSON, and the exit status: {@value #OK} done, {@value #API_ERROR}
 * the API refused the call (its message printed) or could not be reached, {@value #USAGE} a wrong command line.
 */
public abstract class AdminCommand {
    public static final int OK = 0;
    public static final int API_ERROR = 1;
    public static final int USAGE = 2;

    protected final PrintStream out;
    protected final PrintStream err;
    protected final Map<String, String> env;
    private final String api;
    private final String urlHint;

    /**
     * @param api     who answers, for messages ("the rate controller")
     * @param urlHint how to point the command elsewhere ("--controller or TERN_CONTROLLER_URL")
     */
    protected AdminCommand(PrintStream out, PrintStream err, Map<String, String> env, String api, String urlHint) {
        this.out = out;
        this.err = err;
        this.env = env;
        this.api = api;
        this.urlHint = urlHint;
    }

    /** @param args what follows the command's name */
    public final int run(List<String> args) {
        boolean missing = args.isEmpty() && needsSubcommand();
        if (missing || args.contains("-h") || args.contains("--help") || (!args.isEmpty() && args.get(0).equals("help"))) {
            (missing ? err : out).println(usage());
            return missing ? USAGE : OK;
        }
        try {
            return execute(args);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return API_ERROR;
        } catch (Exception e) {
            err.println("error: " + e);
            return API_ERROR;
        }
    }

    protected abstract int execute(List<String> args) throws Exception;

    /** Whether the command needs a word after its name ({@code throttle status}); {@code ternctl status} does not. */
    protected boolean needsSubcommand() {
        return true;
    }

    public abstract String usage();

    protected final int usageError(UsageException e) {
        err.println("usage error: " + e.getMessage());
        err.println(usage());
        return USAGE;
    }

    /** One API call. */
    @FunctionalInterface
    protected interface Call {
        int run() throws ApiError, IOException, InterruptedException;
    }

    /** Runs {@code call}, turning a refusal or an unreachable API into its message and exit status 1. */
    protected final int call(boolean json, URI base, Call call) throws InterruptedException {
        try {
            return call.run();
        } catch (ApiError e) {
            if (json) {
                out.println(e.raw());
            }
            err.println("error: " + e.getMessage() + " (HTTP " + e.status() + (e.code() == null ? "" : ", " + e.code())
                    + (e.field() == null ? "" : ", field " + e.field()) + ")");
            return API_ERROR;
        } catch (IOException e) {
            String m = e.getMessage();
            err.println("error: cannot reach " + api + " at " + base + ": " + e.getClass().getSimpleName()
                    + (m == null || m.isBlank() ? "" : " " + m) + " (set " + urlHint + ")");
            return API_ERROR;
        }
    }

    /** Prints the answer: the API's JSON with {@code --output json}, else {@code text} of it. */
    protected final int render(boolean json, AdminClient.Answer answer, Function<JsonNode, String> text) {
        if (json) {
            out.println(answer.raw());
        } else {
            String t = text.apply(answer.json());
            out.print(t.endsWith(System.lineSeparator()) ? t : t + System.lineSeparator());
        }
        out.flush();
        return OK;
    }
}
