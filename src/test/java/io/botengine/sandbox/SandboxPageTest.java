package io.botengine.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.botengine.testing.LogCapture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The chat page in a real browser: headless Chromium (the Debian packages, never a downloaded one)
 * driven through chromedriver, against a whole sandbox in this JVM. Each test opens a tab of its
 * own, which is a user of its own.
 */
@ExtendWith(LogCapture.class)
class SandboxPageTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final Path SCREENSHOT = Path.of("target", "sandbox-chat.png");
  private static final Duration WAIT = Duration.ofSeconds(45);

  /** Selenium warns that it has no DevTools bindings for this Chromium; the tests use none. */
  private static final Logger SELENIUM_LOG = Logger.getLogger("org.openqa.selenium");

  private static SandboxFixture fixture;
  private static ChromeDriver driver;
  private static String blankTab;

  @RegisterExtension
  final AfterTestExecutionCallback screenshotOnFailure =
      context -> {
        if (context.getExecutionException().isPresent() && driver != null) {
          Path shot = Path.of("target", "sandbox-failed-" + context.getDisplayName() + ".png");
          Files.write(shot, driver.getScreenshotAs(OutputType.BYTES));
          System.out.println("screenshot of the failed page: " + shot.toAbsolutePath());
        }
      };

  @BeforeAll
  static void start() throws IOException {
    requireChromium();
    SELENIUM_LOG.setLevel(Level.SEVERE);
    fixture = SandboxFixture.start();
    driver = chromium();
    blankTab = driver.getWindowHandle();
  }

  @AfterAll
  static void stop() {
    if (driver != null) {
      driver.quit();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  /** Fails in CI, skips elsewhere, and says so in one line, when the browser is not installed. */
  static void requireChromium() {
    if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
      return;
    }
    String line =
        "Sandbox browser tests need "
            + CHROMIUM
            + " and "
            + CHROMEDRIVER
            + " (Debian packages chromium, chromium-driver); .ci/run installs them when missing";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(line);
    }
    System.out.println("SKIPPED: " + line);
    Assumptions.abort(line);
  }

  /** Headless Chromium from the explicit paths: Selenium Manager is never consulted. */
  static ChromeDriver chromium() throws IOException {
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    Path profile =
        Files.createTempDirectory(Files.createDirectories(Path.of("target")), "chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-quic",
        "--no-first-run",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1100",
        "--lang=en-GB",
        "--user-data-dir=" + profile.toAbsolutePath());
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    return new ChromeDriver(service, options);
  }

  @BeforeEach
  void openTab() {
    driver.switchTo().newWindow(WindowType.TAB);
    driver.get(fixture.url + "/");
    await("the page to connect", d -> d.findElement(By.id("connection")).getText().equals("live"));
  }

  @AfterEach
  void closeTabs() {
    for (String handle : driver.getWindowHandles()) {
      if (!handle.equals(blankTab)) {
        driver.switchTo().window(handle).close();
      }
    }
    driver.switchTo().window(blankTab);
  }

  // ---------------------------------------------------------------- the page, as a person uses it

  private static <T> T await(String what, Function<WebDriver, T> condition) {
    // Messages come and go while a condition reads them (the progress status message is deleted
    // when a job ends), so an element gone stale just means: look again.
    return new WebDriverWait(driver, WAIT)
        .withMessage(() -> what + "; the chat shows " + chat())
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
        .until(condition);
  }

  private static long userId() {
    String shown = driver.findElement(By.id("user-id")).getText();
    assertTrue(shown.matches("User [1-9][0-9]+"), shown);
    return Long.parseLong(shown.substring("User ".length()));
  }

  private static void type(String text) {
    WebElement input = driver.findElement(By.id("text"));
    input.sendKeys(text);
    input.sendKeys(Keys.ENTER);
  }

  private static void attach(Path file) {
    driver.findElement(By.id("file")).sendKeys(file.toAbsolutePath().toString());
  }

  private static void chooseScenario(long user, String scenario) {
    new Select(driver.findElement(By.id("scenario"))).selectByValue(scenario);
    await(
        "the scenario " + scenario + " to be saved",
        d -> scenario.equals(fixture.account(user).path("scenario").asText()));
  }

  /** Every message of the chat, user's and bot's, as "user: text" / "bot: text" lines. */
  private static List<String> chat() {
    return driver.findElements(By.cssSelector("#messages .msg")).stream()
        .map(m -> (m.getDomAttribute("class").contains("user") ? "user: " : "bot: ") + m.getText())
        .toList();
  }

  private static List<String> botTexts() {
    return await(
        "the bot's texts to be read",
        d -> d.findElements(By.cssSelector("#messages .msg.bot:not(.document) .text")).stream()
            .map(WebElement::getText)
            .toList());
  }

  private static long count(List<String> texts, String prefix) {
    return texts.stream().filter(t -> t.startsWith(prefix)).count();
  }

  private static List<WebElement> awaitBotText(String prefix, int times) {
    return await(
        times + " bot message(s) starting with " + prefix,
        d -> {
          List<WebElement> found =
              d.findElements(By.cssSelector("#messages .msg.bot .text")).stream()
                  .filter(e -> e.getText().startsWith(prefix))
                  .toList();
          return found.size() >= times ? found : null;
        });
  }

  private static String panel(String id) {
    return driver.findElement(By.id(id)).getText();
  }

  private static void awaitPanel(String id, String value) {
    await("the panel's " + id + " to show " + value, d -> panel(id).equals(value));
  }

  private static Path cv(String name) throws IOException {
    Path file = Path.of("target", name);
    Files.writeString(
        file,
        "Иван Петров\nJava-разработчик, 6 лет опыта\nAkka, PostgreSQL, Kubernetes\n",
        StandardCharsets.UTF_8);
    return file;
  }

  // ---------------------------------------------------------------- tests

  @Test
  void runsAPaidAnalysisFromTheChatPage() throws IOException {
    long user = userId();
    long cost = fixture.cvCost();
    type("/start");
    awaitBotText("👋 Я анализирую резюме", 1);
    awaitPanel("balance", "1");

    driver.findElement(By.cssSelector("button.credit[data-amount='10']")).click();
    awaitPanel("balance", "11");

    type("/cv");
    WebElement prompt = awaitBotText("📄 Анализ CV", 1).get(0);
    assertEquals(
        List.of("Анализ CV", "PDF", "TXT", "1 МБ", "1 токен"),
        prompt.findElements(By.tagName("b")).stream().map(WebElement::getText).toList(),
        "the prompt's HTML is rendered, not shown as tags");

    attach(cv("cv.txt"));
    await(
        "the user's file in the chat",
        d -> !d.findElements(By.cssSelector(".msg.user.document .file-name")).isEmpty());
    List<WebElement> documents =
        await(
            "both documents of the analysis",
            d -> {
              List<WebElement> found = d.findElements(By.cssSelector(".msg.bot.document"));
              return found.size() >= 2 ? found : null;
            });
    awaitBotText("✅ Анализ завершён!", 1);
    awaitPanel("balance", Long.toString(11 - cost));
    awaitPanel("reserved", "0");

    assertEquals(
        List.of("cv_analysis.md", "recommendations.md"),
        documents.stream().map(d -> d.findElement(By.className("file-name")).getText()).toList());
    assertEquals(
        "cv.txt", driver.findElement(By.cssSelector(".msg.user.document .file-name")).getText());
    WebElement download = documents.get(0).findElement(By.cssSelector("a.file"));
    assertEquals("cv_analysis.md", download.getDomAttribute("download"));
    HttpResponse<String> file =
        fixture.send(HttpRequest.newBuilder(URI.create(download.getDomProperty("href"))));
    assertEquals(200, file.statusCode());
    assertTrue(file.body().startsWith("## Анализ CV"), file.body());
    assertEquals(
        List.of("/start", "/cv"),
        driver.findElements(By.cssSelector(".msg.user:not(.document) .text")).stream()
            .map(WebElement::getText)
            .toList());

    List<String> before = chat();
    driver.navigate().refresh();
    await("the chat again after a reload", d -> chat().equals(before));
    assertEquals(user, userId(), "the tab keeps its user");

    new Actions(driver).moveToElement(driver.findElement(By.id("text"))).perform();
    driver.executeScript(
        "document.querySelectorAll('.msg.user')[1].scrollIntoView({block: 'start'});"
            + "document.getElementById('messages').scrollTop -= 12;");
    Files.write(SCREENSHOT, driver.getScreenshotAs(OutputType.BYTES));
    System.out.println("screenshot of the chat page: " + SCREENSHOT.toAbsolutePath());
  }

  @Test
  void showsAStreamedAnswerGrowingInADraftBubbleThatTheMessageReplaces() throws IOException {
    long user = userId();
    chooseScenario(user, "streamed");
    ((JavascriptExecutor) driver).executeScript(
        "window.drafts = [];"
            + "new MutationObserver(() => {"
            + "  const d = document.querySelector('#messages .msg.bot.draft .text');"
            + "  if (d && window.drafts[window.drafts.length - 1] !== d.textContent) {"
            + "    window.drafts.push(d.textContent);"
            + "  }"
            + "}).observe(document.getElementById('messages'),"
            + "  {childList: true, subtree: true, characterData: true});");
    type("/cv");
    awaitBotText("📄 Анализ CV", 1);
    attach(cv("cv-streamed.txt"));
    awaitBotText("✅ Анализ завершён!", 1);

    @SuppressWarnings("unchecked")
    List<String> drafts =
        (List<String>) ((JavascriptExecutor) driver).executeScript("return window.drafts;");
    assertTrue(drafts.size() >= 2, "the draft grew while written: " + drafts);
    for (int i = 1; i < drafts.size(); i++) {
      assertTrue(drafts.get(i).startsWith(drafts.get(i - 1)), drafts.toString());
    }
    assertTrue(driver.findElements(By.cssSelector("#messages .msg.draft")).isEmpty(),
        "the message replaced the draft: " + chat());
    List<String> texts = botTexts();
    assertEquals(1, count(texts, "## Анализ CV"), "kept once, as a message: " + texts);
    String kept = texts.stream().filter(t -> t.startsWith("## Анализ CV")).findFirst().orElseThrow();
    assertTrue(kept.contains("Итог: сильное резюме"), "the full text, Markdown rendered: " + kept);
  }

  @Test
  void cvReentryDuringAJobCancelsItAndAsksForANewFile() throws IOException {
    long user = userId();
    chooseScenario(user, "slow");
    type("/cv");
    awaitBotText("📄 Анализ CV", 1);
    attach(cv("cv-first.txt"));
    awaitBotText("CV успешно прочитано", 1);
    awaitPanel("state", "job running");

    type("/cv");
    awaitBotText("📄 Анализ CV", 2);
    List<String> afterReentry = botTexts();
    int cancelled = afterReentry.indexOf("Анализ отменён.");
    int prompted = afterReentry.size() - 1;
    while (prompted >= 0 && !afterReentry.get(prompted).startsWith("📄 Анализ CV")) {
      prompted--;
    }
    assertTrue(
        cancelled >= 0 && cancelled < prompted,
        "cancelled, then asked for a file: " + afterReentry);
    String firstTask =
        fixture.sandbox.runner().uploads().stream()
            .filter(u -> u.telegramId() == user)
            .findFirst()
            .orElseThrow()
            .taskId();
    await(
        "the Runner to be told to cancel the first task",
        d -> fixture.sandbox.runner().cancelled().contains(firstTask));

    chooseScenario(user, "normal");
    attach(cv("cv-second.txt"));
    awaitBotText("✅ Анализ завершён!", 1);
    awaitPanel("balance", Long.toString(1 - fixture.cvCost()));
    awaitPanel("reserved", "0");

    List<String> texts = botTexts();
    assertEquals(2, count(texts, "CV успешно прочитано"), "one per job: " + texts);
    assertEquals(1, count(texts, "Анализ завершен. Отправляю результат"), "the old job stopped");
    assertEquals(1, count(texts, "✅ Анализ завершён!"));
    assertEquals(2, driver.findElements(By.cssSelector(".msg.bot.document")).size());
  }

  @Test
  void editsRemovesAndRendersBotMessagesSafely() {
    long user = userId();
    type("<img src=x onerror=\"window.pwned = 1\">");
    awaitBotText("Не понимаю", 1);
    assertEquals(
        "<img src=x onerror=\"window.pwned = 1\">",
        driver.findElement(By.cssSelector(".msg.user .text")).getText());

    long status =
        fixture
            .asBot("sendMessage", Map.of("chat_id", user, "text", "⏳ Обработка: 10%"))
            .path("message_id")
            .asLong();
    By statusRow = By.cssSelector(".msg.bot[data-mid='" + status + "']");
    WebElement row =
        await(
            "the status message",
            d ->
                d.findElement(statusRow).getText().startsWith("⏳ Обработка: 10%")
                    ? d.findElement(statusRow)
                    : null);

    fixture.asBot("sendChatAction", Map.of("chat_id", user, "action", "typing"));
    awaitPanel("status", "typing…");
    fixture.asBot(
        "editMessageText",
        Map.of(
            "chat_id",
            user,
            "message_id",
            status,
            "text",
            "⏳ Обработка: *60%*",
            "parse_mode",
            "Markdown"));
    await(
        "the status edited in place",
        d -> row.findElement(By.className("text")).getText().equals("⏳ Обработка: 60%"));
    assertEquals("60%", row.findElement(By.cssSelector(".text b")).getText());
    assertTrue(row.getDomAttribute("class").contains("was-edited"), row.getDomAttribute("class"));
    assertEquals(1, driver.findElements(statusRow).size());

    fixture.asBot(
        "sendMessage",
        Map.of(
            "chat_id",
            user,
            "text",
            "*жирный* _курсив_ `код` [ссылка](https://example.com/x)"
                + " [плохая](javascript:alert(1))",
            "parse_mode",
            "Markdown"));
    fixture.asBot(
        "sendMessage",
        Map.of(
            "chat_id", user, "text", "<b>не жирный</b> <img src=x onerror=\"window.pwned = 2\">"));
    fixture.asBot(
        "sendMessage",
        Map.of(
            "chat_id", user,
            "text", "<b>HTML</b> &lt;i&gt; <a href=\"https://example.com/y\">ссылка</a>",
            "parse_mode", "HTML"));
    WebElement markdown = awaitBotText("жирный курсив код ссылка плохая", 1).get(0);
    assertEquals("жирный", markdown.findElement(By.tagName("b")).getText());
    assertEquals("курсив", markdown.findElement(By.tagName("i")).getText());
    assertEquals("код", markdown.findElement(By.tagName("code")).getText());
    List<WebElement> links = markdown.findElements(By.tagName("a"));
    assertEquals(1, links.size(), "the javascript: link is plain text");
    assertEquals("https://example.com/x", links.get(0).getDomProperty("href"));
    WebElement plain = awaitBotText("<b>не жирный</b>", 1).get(0);
    assertTrue(plain.findElements(By.xpath(".//*")).isEmpty(), "plain text stays text");
    WebElement html = awaitBotText("HTML <i> ссылка", 1).get(0);
    assertEquals("HTML", html.findElement(By.tagName("b")).getText());
    assertEquals("https://example.com/y", html.findElement(By.tagName("a")).getDomProperty("href"));
    assertTrue(driver.findElements(By.cssSelector("#messages img")).isEmpty());
    assertEquals(null, ((JavascriptExecutor) driver).executeScript("return window.pwned ?? null"));

    fixture.asBot("deleteMessage", Map.of("chat_id", user, "message_id", status));
    await("the status removed", d -> d.findElements(statusRow).isEmpty());

    driver.switchTo().newWindow(WindowType.TAB);
    driver.get(fixture.url + "/");
    await(
        "the second tab to connect",
        d -> d.findElement(By.id("connection")).getText().equals("live"));
    assertNotEquals(user, userId(), "another tab is another user");
    assertTrue(driver.findElements(By.cssSelector("#messages .msg")).isEmpty(), chat().toString());
  }

  @Test
  void showsInvoicesAsCardsAndSubscriptionOffersWithTheirStarsButtons() {
    long user = userId();
    type("/balance");
    awaitBotText("💰", 1);
    fixture.asBot(
        "sendInvoice",
        Map.of(
            "chat_id", user,
            "title", "20 токенов",
            "description", "<img src=x onerror=\"window.pwned = 3\"> пакет",
            "payload", "pack:20",
            "currency", "XTR",
            "prices", List.of(Map.of("label", "Токены", "amount", 180))));
    fixture.offerSubscription(user, Map.of("text", "Канал", "url", "tg://resolve?domain=x"));

    WebElement card =
        await("the invoice card", d -> d.findElement(By.cssSelector(".invoice-card")));
    assertEquals("20 токенов", card.findElement(By.className("invoice-title")).getText());
    assertEquals(
        "<img src=x onerror=\"window.pwned = 3\"> пакет",
        card.findElement(By.className("invoice-description")).getText());
    assertEquals("Pay 180 ⭐", card.findElement(By.cssSelector("button.pay")).getText());
    WebElement subscribe =
        await(
            "the subscription offer's button",
            d -> d.findElement(By.cssSelector(".msg.bot .keyboard button.pay")));
    assertEquals("Subscribe 100 ⭐", subscribe.getText());
    WebElement terms = driver.findElement(By.cssSelector(".keyboard .inline-button"));
    assertEquals("Канал", terms.getText());
    assertEquals(null, terms.getDomAttribute("href"), "only http(s) buttons open from the page");
    assertTrue(driver.findElements(By.cssSelector("#messages img")).isEmpty());
    assertEquals(null, ((JavascriptExecutor) driver).executeScript("return window.pwned ?? null"));
  }

  @Test
  void aNewcomerOutOfTokensBuysAPackWithStarsAndRunsTheNextAnalysis() throws IOException {
    long user = userId();
    type("/cv");
    awaitBotText("📄 Анализ CV", 1);
    attach(cv("cv-welcome.txt"));
    awaitBotText("✅ Анализ завершён!", 1);
    awaitPanel("balance", "0");

    type("/cv");
    awaitBotText("❌ Недостаточно токенов. Используйте /buy", 1);
    type("/buy");
    WebElement pack =
        await(
            "the 5-token pack's card",
            d ->
                d.findElements(By.cssSelector(".invoice-card")).stream()
                    .filter(
                        c ->
                            c.findElement(By.className("invoice-title"))
                                .getText()
                                .equals("Пакет: 5 токенов"))
                    .findFirst()
                    .orElse(null));
    WebElement pay = pack.findElement(By.cssSelector("button.pay"));
    assertEquals("Pay 50 ⭐", pay.getText());
    pay.click();

    awaitBotText("✅ Оплачено: +5 токенов", 1);
    await("the button to show the payment", d -> pay.getText().equals("Paid ✓"));
    assertEquals(
        "You paid 50 ⭐ for «Пакет: 5 токенов»",
        driver.findElement(By.cssSelector(".msg.service .service-text")).getText());
    awaitPanel("balance", "5");
    WebElement payment =
        await(
            "the payment in the account panel",
            d -> d.findElement(By.cssSelector("#payments li")));
    assertEquals("50 ⭐", payment.findElement(By.className("amount")).getText());
    assertEquals("pack · +5 tokens", payment.findElement(By.className("reason")).getText());
    assertEquals(1, fixture.sandbox.bot().payments(user).size());

    type("/cv");
    awaitBotText("📄 Анализ CV", 2);
    assertEquals(
        1, count(botTexts(), "❌ Недостаточно токенов"), "the next /cv is not refused: " + chat());
  }
}
