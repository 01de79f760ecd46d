package io.tern.local.e2e;

import io.tern.devstack.Ports;
import io.tern.local.LocalPlatform;
import io.tern.runtime.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * The SRE console in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}) against the
 * local platform: an SRE signs in with the token, watches connections and deliveries move while pushes flow to SDK
 * devices in both regions, sees the throttle and a group push's counters, backs out of a failover at the confirm
 * step, then fails north over to south from the page, sees the policy change and the devices move, and fails back. Screenshots go to
 * {@code target/console-screenshots}. Without Chromium the test is skipped, except under CI ({@code CI=true}),
 * where it fails: CI installs it ({@code .ci/run}).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ConsoleBrowserIT {
    private static final String SRE_TOKEN = "console-browser-it-sre-token";
    private static final Path CHROMIUM = Path.of(System.getProperty("tern.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("tern.chromedriver", "/usr/bin/chromedriver"));
    private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    private static final int DEVICES_PER_REGION = 5;

    private static LocalPlatform platform;
    private static Devices devices;
    private static ScheduledExecutorService pushes;
    private static CompletableFuture<WebDriver> chromium;
    private static WebDriver browser;
    private static final AtomicLong pushed = new AtomicLong();

    @BeforeAll
    static void start() throws IOException {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "no Chromium for the console test: " + CHROMIUM + " and " + CHROMEDRIVER
                    + " must exist (apt-get install -y chromium chromium-driver)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(why + "; CI must have them (.ci/run installs them)");
            }
            // Said in the build log too: an aborted @BeforeAll shows in the report as no test run at all.
            LoggerFactory.getLogger(ConsoleBrowserIT.class).warn("{}; skipped outside CI", why);
            abort(why + "; skipped outside CI");
        }
        Files.createDirectories(SCREENSHOTS);
        // The browser starts while the platform does.
        chromium = CompletableFuture.supplyAsync(ConsoleBrowserIT::startChromium);
        Map<String, String> s = new HashMap<>();
        s.put("local.redis-port", Integer.toString(Ports.free()));
        s.put("local.kafka-port", Integer.toString(Ports.free()));
        s.put("local.disk-kv-port", Integer.toString(Ports.free()));
        s.put("local.sre-token", SRE_TOKEN);
        s.put("local.demo-device", "false");
        s.put("local.logic-nodes", "1");
        s.put("local.dev-tls", "false");
        // Region moves in test time: short stages.
        s.put("scheduler.stage-stall", "500ms");
        for (String port : List.of("dispatcher.port", "logic.port", "scheduler.port", "ratecontrol.port", "bypass.port",
                "backup.port", "broker.tcp-port", "broker.ws-port", "broker.internal-port", "broker.admin-port")) {
            s.put(port, "0");
        }
        platform = LocalPlatform.start(Settings.of(s), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

        devices = new Devices(platform.cluster().dispatcher().address(), "demo", "demo-client-key", null);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 2 * DEVICES_PER_REGION; i++) {
            String name = "console-device-" + i;
            devices.home(name, i < DEVICES_PER_REGION ? "north" : "south");
            names.add(name);
        }
        devices.startAll(names);
        List<String> regIds = devices.regIds(names);

        // The app server: a group push to every device (a task with counters), then single pushes round the devices.
        PushApiClient app = new PushApiClient(platform.cluster().logic().address()).login("demo", "demo-key", "demo-secret");
        String task = app.createTask("Console", "group push", null);
        PushApiClient.Response list = app.listPush(task, regIds, null);
        assertEquals(200, list.status(), list.toString());
        pushes = Executors.newSingleThreadScheduledExecutor();
        pushes.scheduleAtFixedRate(() -> {
            long n = pushed.getAndIncrement();
            app.pushNotification(regIds.get((int) (n % regIds.size())), "Console", "push " + n);
        }, 0, 25, TimeUnit.MILLISECONDS);
        browser = chromium.join();
    }

    /** Headless Chromium through Debian's chromedriver, named here: Selenium Manager would try to download one. */
    private static WebDriver startChromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1100");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (chromium != null) {
            // Also a browser whose start the platform's failure left unclaimed.
            chromium.thenAccept(WebDriver::quit).exceptionally(e -> null).join();
        }
        if (pushes != null) {
            pushes.shutdownNow();
        }
        if (devices != null) {
            devices.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void anSreWatchesLiveNumbersAndFailsARegionOverAndBackFromThePageAfterConfirming() {
        InetSocketAddress scheduler = platform.cluster().scheduler().address();
        browser.get("http://" + scheduler.getHostString() + ":" + scheduler.getPort() + "/console");
        screenshot("1-sign-in");

        // A wrong token is refused on the page.
        signIn("not-the-sre-token-0000");
        await().atMost(Duration.ofSeconds(10)).until(() -> text("login-error").contains("refused"));
        signIn(SRE_TOKEN);
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElement(By.id("app")).isDisplayed());

        // Both regions with their devices connected, as the brokers report them.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertEquals(Integer.toString(DEVICES_PER_REGION), cell("regions", "north", "connections"));
            assertEquals(Integer.toString(DEVICES_PER_REGION), cell("regions", "south", "connections"));
            assertEquals("active", cell("regions", "north", "state"));
        });

        // Live: the brokers' delivered counts climb and deliveries/s is above zero while pushes flow.
        long deliveredBefore = number(cell("brokers", "b1", "delivered"));
        await().atMost(Duration.ofSeconds(20)).until(() -> number(cell("brokers", "b1", "delivered")) > deliveredBefore + 20);
        await().atMost(Duration.ofSeconds(20)).until(() -> Double.parseDouble(cell("brokers", "b2", "deliveries")) > 0
                && Double.parseDouble(cell("regions", "north", "deliveries")) > 0);
        // The group push, with every device's copy sent and acknowledged.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            List<WebElement> rows = browser.findElements(By.cssSelector("#tasks tbody tr"));
            assertEquals(1, rows.size());
            WebElement row = rows.get(0);
            assertEquals(Integer.toString(2 * DEVICES_PER_REGION), row.findElement(By.cssSelector("td.targeted")).getText());
            assertEquals(Integer.toString(2 * DEVICES_PER_REGION), row.findElement(By.cssSelector("td.delivered")).getText());
        });
        // The throttle as the rate controller sees it (read through the scheduler), and the buffer's state.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertEquals("open", text("throttle-state"));
            assertTrue(number(text("throttle-capacity")) > 0, text("throttle-capacity"));
            assertTrue(text("buffer-mode").startsWith("off"), text("buffer-mode"));
            // Measured with autoscaling off all the same.
            assertTrue(text("buffer-lag").matches("[0-9,]+ records over [0-9]+ partitions"), text("buffer-lag"));
        });
        screenshot("2-live");

        // Backing out at the confirm step changes nothing.
        String version = text("policy-version");
        new Select(rowOf("regions", "north").findElement(By.cssSelector("select.failover-to"))).selectByValue("south");
        rowOf("regions", "north").findElement(By.cssSelector("button.failover")).click();
        assertTrue(browser.findElement(By.id("confirm")).isDisplayed());
        assertTrue(text("confirm-text").contains("north to south"), text("confirm-text"));
        screenshot("3-confirm");
        browser.findElement(By.id("confirm-cancel")).click();
        assertFalse(browser.findElement(By.id("confirm")).isDisplayed());
        // Through a few page refreshes (one a second), the policy stays where it was.
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5)).until(() ->
                version.equals(text("policy-version")) && "active".equals(cell("regions", "north", "state")));
        assertEquals(Long.parseLong(version), platform.cluster().scheduler().policyVersion(), "cancelled: nothing was sent");

        // Confirmed: the failover goes out, and the page shows the policy serving north from south.
        rowOf("regions", "north").findElement(By.cssSelector("button.failover")).click();
        browser.findElement(By.id("confirm-reason")).sendKeys("console drill");
        browser.findElement(By.id("confirm-go")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> text("notice").startsWith("Failover of north to south accepted"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertTrue(cell("regions", "north", "state").startsWith("fail"), cell("regions", "north", "state"));
            assertEquals("south", cell("regions", "north", "served-by"));
            assertTrue(text("history").contains("failover north"), text("history"));
        });
        assertTrue(Long.parseLong(text("policy-version")) > Long.parseLong(version));
        // The platform itself moved: the scheduler's stored policy serves north from south.
        await().atMost(Duration.ofSeconds(10)).until(() -> platform.cluster().scheduler().policyVersion()
                > Long.parseLong(version));
        // Its devices follow to south's broker, as the page shows.
        await().atMost(Duration.ofSeconds(40)).untilAsserted(() -> {
            assertEquals("failed-over", cell("regions", "north", "state"));
            assertEquals(Integer.toString(2 * DEVICES_PER_REGION), cell("brokers", "b2", "connections"));
        });
        screenshot("4-failed-over");

        // And back: Fail back is offered now that north is failed over, also behind the confirm step.
        rowOf("regions", "north").findElement(By.cssSelector("button.failback")).click();
        assertTrue(text("confirm-text").contains("back to it"), text("confirm-text"));
        browser.findElement(By.id("confirm-go")).click();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertTrue(text("notice").startsWith("Failback of north accepted"), text("notice"));
            assertEquals("north", cell("regions", "north", "served-by"));
            assertTrue(text("history").contains("failback north"), text("history"));
        });
        screenshot("5-failing-back");
    }

    private static void signIn(String token) {
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        browser.findElement(By.id("sign-in")).click();
    }

    private static String text(String id) {
        return browser.findElement(By.id(id)).getText().strip();
    }

    private static WebElement rowOf(String table, String key) {
        return browser.findElement(By.cssSelector("#" + table + " tbody tr[data-key='" + key + "']"));
    }

    /** The text of a row's cell; empty while the row is not there yet. */
    private static String cell(String table, String key, String column) {
        List<WebElement> rows = browser.findElements(By.cssSelector("#" + table + " tbody tr[data-key='" + key + "']"));
        return rows.isEmpty() ? "" : rows.get(0).findElement(By.cssSelector("td." + column)).getText().strip();
    }

    /** A count as the page prints it (thousands separated). */
    private static long number(String shown) {
        String digits = shown.replace(",", "");
        return digits.matches("\\d+") ? Long.parseLong(digits) : -1;
    }

    private static void screenshot(String name) {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        try {
            Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
