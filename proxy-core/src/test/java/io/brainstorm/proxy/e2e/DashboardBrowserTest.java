package io.brainstorm.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.brainstorm.proxy.auth.ApiKey;
import io.brainstorm.proxy.auth.ApiKeys;
import io.brainstorm.proxy.testing.Firings;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser (Debian's headless chromium driven by Selenium, offline: the
 * browser and its driver are given by path, so Selenium Manager never runs), against a real gateway
 * with the simulated provider. One browser session goes through the scenarios in order, as a user
 * would: log in, watch a request arrive, create a key with a budget and use it, add a provider key,
 * log in as a tenant admin who sees only its tenant, and an attacker's model name shown as text.
 * Screenshots go to {@code target/dashboard/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOTS = Path.of("target", "dashboard");
    private static final String XSS_MODEL = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">";
    private static final String PROVIDER_SECRET = "sk-browser-test-RAW-provider-key-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private GatewayHarness gateway;
    private WebDriver driver;
    /** The key created in the browser (scenario c), of tenant default. */
    private String browserKeyId;

    @BeforeAll
    void start() throws Exception {
        assumeTrue(
                Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "browser test skipped: needs Debian's chromium and chromium-driver (/usr/bin/chromium,"
                        + " /usr/bin/chromedriver); .ci/run installs them");
        gateway = new GatewayHarness("""
                providers:
                  - name: openai
                    base_url: http://127.0.0.1:9/v1
                """);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900");
        // the driver's path is given, so Selenium Manager (which may go online) is never asked for one;
        // SE_OFFLINE=true (surefire's environment) would keep it offline if it were
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(5));
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    void stop() {
        try {
            if (driver != null) {
                driver.quit();
            }
        } finally {
            if (gateway != null) {
                gateway.close();
            }
        }
    }

    @Test
    @Order(1)
    void logInWithTheAdminToken() {
        driver.get(dashboardUrl());
        waitFor(2, ExpectedConditions.visibilityOfElementLocated(By.id("token")));
        // every CSP violation of the session is kept, to be none at the end
        js("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                + " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));");
        logIn(gateway.adminToken);
        waitFor(3, ExpectedConditions.textToBe(By.id("who"), "super-admin"));
        waitFor(3, ExpectedConditions.visibilityOfElementLocated(By.id("tenant-picker"))); // a super-admin chooses
        assertEquals("", driver.findElement(By.id("token")).getAttribute("value"), "the token field is cleared");
        String cookies = (String) js("return document.cookie;");
        assertFalse(cookies.contains("br_session"), "the session cookie is HttpOnly: " + cookies);
        assertTokenInNoUrl(gateway.adminToken);
    }

    @Test
    @Order(2)
    void aRequestThroughTheGatewayAppearsInTheLiveFeedWithinASecond() throws Exception {
        waitFor(3, ExpectedConditions.textToBe(By.id("feed-status"), "live"));
        String empty = driver.findElement(By.id("feed-empty")).getText();
        assertTrue(
                empty.startsWith(
                        "No requests yet — send one to http://127.0.0.1:" + gateway.port() + "/v1/chat/completions"),
                empty);

        Sent sent = chat(gateway.apiKey, "sim/alpha", false);
        assertEquals(200, sent.status());
        WebElement row = waitFor(1, ExpectedConditions.presenceOfElementLocated(byRequest(sent.requestId())));
        String text = row.getText();
        assertTrue(text.contains("sim/alpha"), text);
        assertTrue(text.contains("200"), text);
        assertFalse(driver.findElement(By.id("feed-empty")).isDisplayed(), "the empty state goes");
    }

    @Test
    @Order(3)
    void createAKeyWithADailyBudgetUseItAndSeeItUnderBudgets() throws Exception {
        new Select(driver.findElement(By.id("tenant-select"))).selectByValue("default");
        driver.findElement(By.cssSelector("a[data-page=keys]")).click();
        waitFor(2, ExpectedConditions.visibilityOfElementLocated(By.id("key-form")));
        driver.findElement(By.id("key-name")).sendKeys("browser-key");
        driver.findElement(By.id("key-budget")).sendKeys("1");
        driver.findElement(By.id("key-submit")).click();
        waitFor(3, ExpectedConditions.attributeToBeNotEmpty(driver.findElement(By.id("secret-dialog")), "open"));
        String secret = driver.findElement(By.id("secret-value")).getText();
        assertTrue(ApiKeys.isWellFormed(secret), "shown once: " + secret);
        assertTrue(driver.findElement(By.id("secret-dialog")).getText().contains("shown this once"));
        screenshot("secret-dialog");
        driver.findElement(By.id("secret-close")).click();
        assertEquals(
                "",
                driver.findElement(By.id("secret-value")).getAttribute("textContent"),
                "the secret leaves the page once the dialog is closed");
        assertFalse(driver.getPageSource().contains(secret));
        browserKeyId = ApiKey.idOf(ApiKeys.sha256(secret));
        waitFor(
                3,
                ExpectedConditions.presenceOfElementLocated(
                        By.cssSelector("#keys-body tr[data-key-id='" + browserKeyId + "']")));

        Sent used = chat(secret, "sim/alpha", false);
        assertEquals(200, used.status(), "the new key works");
        waitFor(1, ExpectedConditions.presenceOfElementLocated(byRequest(used.requestId())));

        driver.findElement(By.cssSelector("a[data-page=budgets]")).click();
        // the page reloads its figures every 5 s: cells are read in one go
        String budgetRow = "#budgets-body tr[data-key-id='" + browserKeyId + "']";
        List<String> cells = waitFor(3, d -> cells(budgetRow));
        assertEquals("browser-key", cells.get(1));
        assertEquals("$1.00", cells.get(3));
        cells = waitFor(7, d -> {
            List<String> c = cells(budgetRow);
            return c != null && c.get(6).equals("1") ? c : null;
        });
        assertTrue(cells.get(4).startsWith("$0.0"), "its one request spent a fraction of a cent: " + cells);
    }

    @Test
    @Order(4)
    void addAProviderKeyAndSeeOnlyItsFingerprint() {
        driver.findElement(By.cssSelector("a[data-page=providers]")).click();
        waitFor(3, ExpectedConditions.presenceOfElementLocated(By.cssSelector("#provider-name option[value=openai]")));
        new Select(driver.findElement(By.id("provider-name"))).selectByValue("openai");
        driver.findElement(By.id("provider-key")).sendKeys(PROVIDER_SECRET);
        driver.findElement(By.id("provider-submit")).click();
        WebElement row = waitFor(
                3,
                ExpectedConditions.presenceOfElementLocated(
                        By.cssSelector("#providers-body tr[data-provider=openai]")));
        String fingerprint = row.findElement(By.className("fingerprint")).getText();
        assertTrue(fingerprint.matches("sha256:[0-9a-f]{8,}"), fingerprint);
        assertEquals("", driver.findElement(By.id("provider-key")).getAttribute("value"));
        assertFalse(driver.getPageSource().contains(PROVIDER_SECRET), "the raw key is nowhere in the page");
        assertFalse(driver.getPageSource().contains("RAW-provider-key"));
    }

    @Test
    @Order(5)
    void screenshotsOfALiveFeedAndTheModelsPage() throws Exception {
        new Select(driver.findElement(By.id("tenant-select"))).selectByValue("");
        driver.findElement(By.cssSelector("a[data-page=live]")).click();
        String last = null;
        for (String[] r : new String[][] {
            {"sim/alpha", "false"},
            {"sim/beta", "true"},
            {"sim/gamma", "false"},
            {"sim/alpha:fast", "true"},
            {"sim/beta:floor", "false"},
            {"sim/no-such-model", "false"},
            {"sim/gamma", "true"},
            {"auto", "false"},
            {"sim/alpha:best", "false"}
        }) {
            last = chat(gateway.apiKey, r[0], Boolean.parseBoolean(r[1])).requestId();
        }
        waitFor(2, ExpectedConditions.presenceOfElementLocated(byRequest(last)));
        screenshot("live");
        driver.findElement(By.cssSelector("a[data-page=models]")).click();
        waitFor(3, d -> d.findElements(By.cssSelector("#models-body tr")).size() >= 3);
        String models = driver.findElement(By.id("models-body")).getText();
        assertTrue(models.contains("sim/alpha") && models.contains("sim/beta"), models);
        screenshot("models");
        driver.findElement(By.cssSelector("a[data-page=circuits]")).click();
        waitFor(3, d -> !d.findElements(By.cssSelector("#circuits-body tr")).isEmpty());
        assertTrue(driver.findElement(By.id("circuits-body")).getText().contains("closed"));
        screenshot("circuits");
    }

    @Test
    @Order(6)
    void aModelWhoseQualityDroppedIsMarkedOnItsRow() throws Exception {
        driver.findElement(By.cssSelector("a[data-page=models]")).click();
        String candidate = waitFor(
                3,
                d -> d.findElement(By.cssSelector("#models-body tr[data-candidate^='sim/alpha@']"))
                        .getAttribute("data-candidate"));
        String row = "#models-body tr[data-candidate='" + candidate + "']";
        assertTrue(driver.findElements(By.cssSelector(row + " .firing")).isEmpty(), "no firing yet");

        // tenant default's answers from it turn bad: its belief and the shared one each fire
        Firings.drop(
                gateway.server.gateway().router().state().learning(), "default", candidate, System.currentTimeMillis());
        // the page reloads its figures every 5 s
        List<String> shared = waitFor(7, d -> {
            WebElement mark = d.findElement(By.cssSelector(row + " .firing.down"));
            return List.of(mark.getText(), mark.getAttribute("title"));
        });
        String text = shared.get(0);
        assertTrue(
                text.matches("dropped \\d\\d:\\d\\d \\(0\\.\\d\\d → 0\\.\\d\\d\\)"),
                "the shared belief's mark: " + text);
        assertTrue(shared.get(1).startsWith("shared belief, class plain/0-1k"), shared.get(1));
        assertTrue(driver.findElements(By.cssSelector(row + " .tenant-view")).isEmpty(), "no tenant chosen");

        // the tenant's own view beside the shared one, and its own belief's firing
        new Select(driver.findElement(By.id("tenant-select"))).selectByValue("default");
        String view = waitFor(
                3, d -> d.findElement(By.cssSelector(row + " .tenant-view")).getText());
        assertTrue(view.startsWith("default: plain/0-1k 0."), view);
        List<String> marks = waitFor(3, d -> {
            List<String> t = d.findElements(By.cssSelector(row + " .firing.down")).stream()
                    .map(WebElement::getText)
                    .toList();
            return t.size() == 2 ? t : null;
        });
        assertEquals(text, marks.get(0), "the shared belief's mark stays");
        assertEquals("default: " + text, marks.get(1), "the tenant's belief fired on the same answer");
        screenshot("learning");
        new Select(driver.findElement(By.id("tenant-select"))).selectByValue("");
    }

    @Test
    @Order(7)
    void aTenantAdminSeesOnlyItsTenant() throws Exception {
        admin("POST", "/admin/v1/tenants", "{\"id\":\"acme\",\"name\":\"Acme Inc.\"}");
        String acmeAdmin = admin("POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"acme-ops\",\"kind\":\"admin\"}")
                .get("key")
                .asText();
        String acmeApi = admin("POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"acme-checkout\"}")
                .get("key")
                .asText();

        driver.findElement(By.id("logout")).click();
        waitFor(3, ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
        assertEquals(
                0, driver.findElements(By.cssSelector("#feed-body tr")).size(), "the feed is gone with the session");
        logIn(acmeAdmin);
        waitFor(3, ExpectedConditions.textToBe(By.id("who"), "tenant admin · acme"));
        assertFalse(driver.findElement(By.id("tenant-picker")).isDisplayed(), "no tenant selector");
        assertTokenInNoUrl(acmeAdmin);
        driver.findElement(By.cssSelector("a[data-page=live]")).click();
        waitFor(3, ExpectedConditions.textToBe(By.id("feed-status"), "live"));
        assertEquals(
                0,
                driver.findElements(By.cssSelector("#feed-body tr")).size(),
                "none of tenant default's requests are replayed");

        Sent other = chat(gateway.apiKey, "sim/alpha", false); // tenant default
        Sent mine = chat(acmeApi, "sim/beta", false);
        waitFor(1, ExpectedConditions.presenceOfElementLocated(byRequest(mine.requestId())));
        assertTrue(
                driver.findElements(byRequest(other.requestId())).isEmpty(),
                "another tenant's request, sent first, never shows");
        assertEquals(1, driver.findElements(By.cssSelector("#feed-body tr")).size());

        driver.findElement(By.cssSelector("a[data-page=keys]")).click();
        waitFor(3, ExpectedConditions.textToBePresentInElementLocated(By.id("keys-body"), "acme-checkout"));
        driver.findElement(By.cssSelector("a[data-page=budgets]")).click();
        waitFor(3, ExpectedConditions.textToBePresentInElementLocated(By.id("budgets-body"), "acme-checkout"));
        driver.findElement(By.cssSelector("a[data-page=models]")).click();
        waitFor(3, d -> d.findElements(By.cssSelector("#models-body tr")).size() == 1);
        String page = driver.getPageSource();
        String models = driver.findElement(By.id("models-body")).getText();
        assertTrue(models.startsWith("sim/beta "), "acme's figures: its one request: " + models);
        for (String foreign : List.of(
                "browser-key", browserKeyId, other.requestId(), "sim/no-such-model", "tenant-select\"><option")) {
            assertFalse(page.contains(foreign), "tenant default's " + foreign + " shows to acme's admin");
        }
        screenshot("tenant-admin");
    }

    @Test
    @Order(8)
    void aScriptInAModelNameIsShownAsText() throws Exception {
        driver.findElement(By.cssSelector("a[data-page=live]")).click();
        Sent sent = chat(gatewayKeyOfAcme(), XSS_MODEL, false);
        assertEquals(404, sent.status(), "no such model");
        WebElement row = waitFor(1, ExpectedConditions.presenceOfElementLocated(byRequest(sent.requestId())));
        assertEquals(XSS_MODEL, row.findElement(By.className("model-asked")).getText());
        assertTrue(row.getText().contains("model_not_found"), row.getText());
        assertTrue(
                driver.findElements(By.cssSelector("#feed img, #feed script")).isEmpty(), "no element was made");
        assertEquals("undefined", js("return typeof window.__xss;"));
        assertEquals(0L, js("return window.__csp.length;"), "CSP had nothing to block: " + js("return window.__csp;"));
        screenshot("escaped");
    }

    // ---- helpers ----

    private String acmeApiKey;

    /** An API key of tenant acme, made once. */
    private String gatewayKeyOfAcme() throws Exception {
        if (acmeApiKey == null) {
            acmeApiKey = admin("POST", "/admin/v1/tenants/acme/keys", "{\"name\":\"acme-xss\"}")
                    .get("key")
                    .asText();
        }
        return acmeApiKey;
    }

    private String dashboardUrl() {
        return "http://127.0.0.1:" + gateway.server.adminPort() + "/dashboard/";
    }

    private void logIn(String token) {
        WebElement field = driver.findElement(By.id("token"));
        field.clear();
        field.sendKeys(token);
        driver.findElement(By.id("login-submit")).click();
    }

    /** The token is in no URL the page loaded or shows. */
    private void assertTokenInNoUrl(String token) {
        assertFalse(driver.getCurrentUrl().contains(token), driver.getCurrentUrl());
        @SuppressWarnings("unchecked")
        List<String> urls = (List<String>) js("return performance.getEntries().map(e => e.name);");
        for (String u : urls) {
            assertFalse(u.contains(token), "the token is in a URL: " + u);
        }
        assertFalse(driver.getPageSource().contains(token), "the token stays in the page");
    }

    /** The texts of the cells of the row {@code css}, read at once; null while there is no such row. */
    @SuppressWarnings("unchecked")
    private List<String> cells(String css) {
        return (List<String>) js(
                "const r = document.querySelector(arguments[0]);"
                        + " return r ? Array.from(r.cells).map(c => c.textContent) : null;",
                css);
    }

    private static By byRequest(String requestId) {
        return By.cssSelector("#feed-body tr[data-request-id='" + requestId + "']");
    }

    private <T> T waitFor(int seconds, java.util.function.Function<? super WebDriver, T> condition) {
        // the page redraws its tables every 5 s: an element found just before a redraw is stale, so
        // a condition that reads one is tried again rather than failing
        return new WebDriverWait(driver, Duration.ofSeconds(seconds), Duration.ofMillis(20))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(condition);
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    private void screenshot(String name) throws java.io.IOException {
        File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private record Sent(int status, String requestId) {}

    private Sent chat(String key, String model, boolean stream) throws Exception {
        String body = JSON.writeValueAsString(Map.of(
                "model", model, "stream", stream, "messages", List.of(Map.of("role", "user", "content", "Say hello"))));
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/chat/completions"))
                        .header("Authorization", "Bearer " + key)
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return new Sent(
                r.statusCode(), r.headers().firstValue("x-br-request-id").orElseThrow());
    }

    private JsonNode admin(String method, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.server.adminPort() + path))
                        .header("Authorization", "Bearer " + gateway.adminToken)
                        .timeout(Duration.ofSeconds(10))
                        .method(method, HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() / 100 == 2, path + ": " + r.statusCode() + " " + r.body());
        return JSON.readTree(r.body());
    }
}
