package io.botengine.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A web client of {@code GET /webapp/api/events} over a real socket: reads the SSE stream on its
 * own thread, and hands the test each event as it was framed ({@code event:}, {@code id:}, {@code
 * data:}); comment lines (heartbeats) are only counted.
 */
public final class SseClient implements AutoCloseable {
  /** One SSE event; {@code id} null when the event had none. */
  public record Event(String type, String id, String data) {}

  /** The end of the stream, as an event the test can wait for. */
  public static final Event CLOSED = new Event("(closed)", null, null);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final AtomicInteger comments = new AtomicInteger();
  private final CompletableFuture<HttpResponse<Stream<String>>> response;
  private volatile Stream<String> lines;

  private SseClient(CompletableFuture<HttpResponse<Stream<String>>> response) {
    this.response = response;
  }

  /** Connects to {@code port}'s event API with this {@code Authorization} and Last-Event-ID. */
  public static SseClient connect(int port, String authorization, String lastEventId) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webapp/api/events"))
            .header("Accept", "text/event-stream");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    if (lastEventId != null) {
      b.header("Last-Event-ID", lastEventId);
    }
    SseClient client =
        new SseClient(HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofLines()));
    client.response.thenAcceptAsync(r -> client.read(r.body()));
    return client;
  }

  /** The HTTP status of the answer. */
  public int status(Duration max) {
    try {
      return response.get(max.toMillis(), TimeUnit.MILLISECONDS).statusCode();
    } catch (Exception e) {
      throw new IllegalStateException("no answer from the event API", e);
    }
  }

  private void read(Stream<String> body) {
    lines = body;
    String type = null;
    String id = null;
    StringBuilder data = null;
    try {
      for (String line : (Iterable<String>) body::iterator) {
        if (line.isEmpty()) {
          if (data != null) {
            events.add(new Event(type == null ? "message" : type, id, data.toString()));
          }
          type = null;
          id = null;
          data = null;
        } else if (line.startsWith(":")) {
          comments.incrementAndGet();
        } else if (line.startsWith("event:")) {
          type = line.substring(6).trim();
        } else if (line.startsWith("id:")) {
          id = line.substring(3).trim();
        } else if (line.startsWith("data:")) {
          String d = line.substring(5);
          d = d.startsWith(" ") ? d.substring(1) : d;
          data = data == null ? new StringBuilder(d) : data.append('\n').append(d);
        }
      }
    } catch (RuntimeException closed) {
      // closed by the test
    }
    events.add(CLOSED);
  }

  /** The next event, waiting up to {@code max}; fails the test when none comes. */
  public Event next(Duration max) {
    try {
      Event e = events.poll(max.toMillis(), TimeUnit.MILLISECONDS);
      if (e == null) {
        throw new AssertionError("no event within " + max);
      }
      return e;
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Events up to and including the first of {@code type}. */
  public List<Event> until(String type, Duration max) {
    List<Event> got = new ArrayList<>();
    Event e;
    do {
      e = next(max);
      got.add(e);
      if (e == CLOSED) {
        throw new AssertionError("stream closed before " + type + ": " + got);
      }
    } while (!e.type().equals(type));
    return got;
  }

  /** Comment lines (heartbeats) seen so far. */
  public int comments() {
    return comments.get();
  }

  @Override
  public void close() {
    response.cancel(true);
    Stream<String> l = lines;
    if (l != null) {
      l.close();
    }
  }
}
