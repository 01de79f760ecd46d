package io.tern.ops.cli.task;

import com.fasterxml.jackson.databind.JsonNode;
import io.tern.ops.cli.admin.AdminClient;
import io.tern.ops.cli.admin.AdminCommand;
import io.tern.ops.cli.admin.ApiError;
import io.tern.ops.cli.admin.ProgressLine;
import io.tern.ops.cli.admin.UsageException;
import io.tern.ops.cli.app.AppArgs;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ternctl task show|watch|recall}: any app's task as an SRE sees and stops it, through a logic node's admin
 * API. {@code watch} follows the task's delivery as a progress bar until it is settled.
 */
public final class TaskCommand extends AdminCommand {
    static final String TASKS = "/v1/admin/tasks/";
    static final Duration POLL = Duration.ofSeconds(1);

    private final boolean tty;
    private final Clock clock;
    private final Duration poll;

    /**
     * @param tty  whether {@code out} is a terminal (watch redraws one line; otherwise a line per change)
     * @param poll how often watch asks for the task
     */
    public TaskCommand(PrintStream out, PrintStream err, boolean tty, Map<String, String> env, Clock clock, Duration poll) {
        super(out, err, env, "the logic node", "--logic or " + AppArgs.LOGIC_ENV);
        this.tty = tty;
        this.clock = clock;
        this.poll = poll;
    }

    public static TaskCommand onConsole() {
        return new TaskCommand(System.out, System.err, System.console() != null, System.getenv(), Clock.systemUTC(), POLL);
    }

    @Override
    protected int execute(List<String> args) throws Exception {
        TaskArgs a;
        try {
            a = TaskArgs.parse(args, env);
        } catch (UsageException e) {
            return usageError(e);
        }
        AdminClient client = new AdminClient(a.logic(), a.token());
        String task = TASKS + a.taskId();
        return call(a.json(), a.logic(), () -> switch (a.action()) {
            case SHOW -> render(a.json(), client.get(task), TaskView::show);
            case RECALL -> render(a.json(), client.post(task + "/recall", AdminClient.JSON.createObjectNode(), null),
                    TaskView::recalled);
            case WATCH -> watch(a, client, task);
        });
    }

    /**
     * Polls the task until it is settled (exit 0) or the timeout passes (exit 1: the task goes on, only the watching
     * stops). With {@code --output json} each changed answer is one line of JSON.
     */
    private int watch(TaskArgs a, AdminClient client, String task) throws ApiError, IOException, InterruptedException {
        Instant deadline = clock.instant().plus(a.timeout());
        try (ProgressLine line = new ProgressLine(out, tty && !a.json())) {
            while (true) {
                JsonNode t = client.get(task).json();
                if (a.json()) {
                    String compact = t.toString();
                    line.show(compact, compact);
                } else {
                    line.show(TaskView.progress(t, clock.instant()), TaskView.progress(t, null));
                }
                if (TaskView.settled(t)) {
                    return OK;
                }
                if (!clock.instant().isBefore(deadline)) {
                    line.end();
                    err.println("watch timed out after " + a.timeout().toString().substring(2).toLowerCase(Locale.ROOT)
                            + "; the task goes on (ternctl task watch " + a.taskId() + " to follow it again)");
                    return API_ERROR;
                }
                Thread.sleep(poll.toMillis());
            }
        }
    }

    @Override
    public String usage() {
        return """
                usage: ternctl task <command> <taskId> [--logic URL] [--token T] [--output text|json]
                  show <taskId>                       any app's task: its app, state, counters, times
                  watch <taskId> [--timeout 10m]      the task's delivery as a progress bar (delivered or expired of
                                                      the valid targets) until it is settled, recalled or failed
                  recall <taskId>                     stop the task: no copy is delivered after this
                A logic node's admin API is --logic or $TERN_LOGIC_URL (default http://127.0.0.1:8080); the SRE token
                --token or $TERN_SRE_TOKEN. --output json prints the API's JSON (watch: one line per change).
                Exit status: 0 done, 1 the node refused (unknown task: 404) or is unreachable, or watch timed out,
                2 a wrong command line.""";
    }
}
