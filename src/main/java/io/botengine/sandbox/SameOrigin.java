package io.botengine.sandbox;

import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.headers.Host;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether a sandbox API call that changes state comes from the sandbox page and not from another
 * web page the developer has open. Such a page can POST {@code text/plain} cross-origin without a
 * preflight, but cannot add a custom header without one (which the sandbox never grants), so every
 * state-changing call must carry {@link #HEADER}. An {@code Origin}, when sent, must be the
 * sandbox's own, and the {@code Host} a loopback name or an IP address, which keeps out pages that
 * rebind their own domain name to this machine.
 */
final class SameOrigin {
  /** Sent by the sandbox page ({@code chat.js}) on every call. */
  static final String HEADER = "X-Sandbox-Page";

  private static final Pattern IP_OR_LOCALHOST =
      Pattern.compile("localhost|\\[?[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*]?|[0-9]{1,3}(\\.[0-9]{1,3}){3}");

  private SameOrigin() {}

  /** Why {@code request} is refused, or empty when it may go on. */
  static Optional<String> refusal(HttpRequest request) {
    if (request.method().equals(HttpMethods.GET) || request.method().equals(HttpMethods.HEAD)) {
      return Optional.empty();
    }
    if (request.getHeader(HEADER).isEmpty()) {
      return Optional.of("only the sandbox page may change the sandbox (" + HEADER + " missing)");
    }
    Optional<Host> host = request.getHeader(Host.class);
    String hostName = host.map(h -> h.host().address()).orElse("");
    if (!IP_OR_LOCALHOST.matcher(hostName).matches()) {
      return Optional.of("open the sandbox as localhost or by IP address, not as '" + hostName + "'");
    }
    String self = "http://" + hostName + (host.get().port() == 0 ? "" : ":" + host.get().port());
    Optional<String> origin = request.getHeader("Origin").map(h -> h.value());
    if (origin.isPresent() && !origin.get().equalsIgnoreCase(self)) {
      return Optional.of("cross-origin call refused (Origin " + origin.get() + ")");
    }
    return Optional.empty();
  }
}
