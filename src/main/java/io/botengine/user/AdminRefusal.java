package io.botengine.user;

/**
 * Why the user entity refused an admin command, carried as the text of a {@code StatusReply}
 * error (a plain string crosses the cluster) and turned into an HTTP status by {@link AdminRoutes}:
 * "not found: ..." is 404, "conflict: ..." 409, "telegram: ..." 502, anything else 400.
 */
final class AdminRefusal {
  static final String NOT_FOUND = "not found: ";
  static final String CONFLICT = "conflict: ";
  static final String UPSTREAM = "telegram: ";

  private AdminRefusal() {}

  static String notFound(String reason) {
    return NOT_FOUND + reason;
  }

  static String conflict(String reason) {
    return CONFLICT + reason;
  }

  static String upstream(String reason) {
    return UPSTREAM + reason;
  }

  /** The HTTP status for a refusal's text. */
  static int status(String refusal) {
    if (refusal.startsWith(NOT_FOUND)) {
      return 404;
    }
    if (refusal.startsWith(CONFLICT)) {
      return 409;
    }
    return refusal.startsWith(UPSTREAM) ? 502 : 400;
  }

  /** The reason without its prefix. */
  static String reason(String refusal) {
    for (String prefix : new String[] {NOT_FOUND, CONFLICT, UPSTREAM}) {
      if (refusal.startsWith(prefix)) {
        return refusal.substring(prefix.length());
      }
    }
    return refusal;
  }
}
