package io.botengine.sandbox;

import static io.botengine.sandbox.RunnerEmulatorMain.env;
import static io.botengine.sandbox.RunnerEmulatorMain.intEnv;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import io.botengine.sandbox.BotApiEmulator.Sent;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.stream.Collectors;

/**
 * Both emulators as a process of their own, for a cluster of engine processes on one machine
 * ({@code scripts/cluster-local.sh}): the Bot API emulator (the engines' {@code TELEGRAM_API_URL},
 * long polling), the Runner emulator, and a small plain-text API to play the users:
 * <pre>
 *   POST /users/{id}/text                 body: the message ("/cv", "/balance", ...)
 *   POST /users/{id}/document?name=cv.pdf body: the file
 *   GET  /users/{id}/chat                 what the bot sent that user, one line per message
 * </pre>
 * Environment: {@code TELEGRAM_BOT_TOKEN} and {@code RUNNER_API_KEY} (required, the engines use the
 * same), {@code EMULATOR_HOST} (127.0.0.1), {@code BOT_API_EMULATOR_PORT} (8081),
 * {@code EMULATOR_CONTROL_PORT} (8082), {@code RUNNER_EMULATOR_PORT} (8090),
 * {@code RUNNER_EMULATOR_PACING_MS} (1200). Stops on SIGTERM.
 */
public final class EmulatorsMain extends AllDirectives {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
  private static final int MAX_FILE = 5 * 1024 * 1024;

  private final BotApiEmulator bot;

  private EmulatorsMain(BotApiEmulator bot) {
    this.bot = bot;
  }

  public static void main(String[] args) {
    String token = env("TELEGRAM_BOT_TOKEN", "");
    String key = env("RUNNER_API_KEY", "");
    if (token.isBlank() || key.isBlank()) {
      System.err.println("Configuration error: TELEGRAM_BOT_TOKEN and RUNNER_API_KEY are required"
          + " (the engines must use the same)");
      System.exit(2);
    }
    String host = env("EMULATOR_HOST", "127.0.0.1");
    ActorSystem<Void> system = RunnerEmulatorMain.emulatorSystem("emulators");
    BotApiEmulator bot =
        BotApiEmulator.start(system, host, intEnv("BOT_API_EMULATOR_PORT", 8081), token);
    RunnerEmulator runner =
        RunnerEmulator.start(system, host, intEnv("RUNNER_EMULATOR_PORT", 8090), key);
    runner.nextScenario(RunnerEmulatorMain.scenario());
    int control = intEnv("EMULATOR_CONTROL_PORT", 8082);
    Http.get(system).newServerAt(host, control).bind(new EmulatorsMain(bot).route())
        .toCompletableFuture().join();
    System.out.printf("Emulators are up: Bot API %s, Runner %s, users' side http://%s:%d/users/%n",
        bot.baseUrl(), runner.baseUrl(), host, control);
  }

  private Route route() {
    return pathPrefix("users", () -> pathPrefix(PathMatchers.longSegment(), this::userRoute));
  }

  private Route userRoute(long user) {
    return concat(
        path("text", () -> post(() -> entity(Unmarshaller.entityToString(),
            text -> updated(bot.sendText(user, text.strip(), "ru"))))),
        path("document", () -> post(() -> parameter("name", name -> withSizeLimit(MAX_FILE,
            () -> entity(Unmarshaller.entityToByteArray(),
                bytes -> updated(bot.sendDocument(user, name, mimeType(name), bytes))))))),
        path("chat", () -> get(() ->
            complete(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, chat(user))))));
  }

  private Route updated(long updateId) {
    return complete(StatusCodes.OK, "update " + updateId + "\n");
  }

  private String chat(long user) {
    return bot.sentTo(user).stream()
        .filter(s -> !"sendChatAction".equals(s.method()))
        .map(EmulatorsMain::line)
        .collect(Collectors.joining("\n", "", "\n"));
  }

  private static String line(Sent s) {
    String what = switch (s.method()) {
      case "sendDocument" -> "[" + s.fileName() + "] " + (s.caption() == null ? "" : s.caption());
      case "deleteMessage" -> "(deleted #" + s.messageId() + ")";
      case "editMessageText" -> "(#" + s.messageId() + " edited) " + s.text();
      default -> s.text();
    };
    return TIME.format(s.at()) + "  " + what.replace("\n", "\n          ");
  }

  private static String mimeType(String name) {
    return name.toLowerCase().endsWith(".pdf") ? "application/pdf" : "text/plain";
  }
}
