package io.botengine.user;

import io.botengine.testing.LogCapture;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.extension.ExtendWith;

/** The journal contract on the embedded default, an H2 file. */
@ExtendWith(LogCapture.class)
class H2JournalTest extends JournalContract {
  private final String url =
      "jdbc:h2:file:" + Path.of("target", "journals", UUID.randomUUID().toString(), "journal")
          .toAbsolutePath();

  @Override
  protected String jdbcUrl() {
    return url;
  }
}
