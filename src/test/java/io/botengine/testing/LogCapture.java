package io.botengine.testing;

import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension: the logs of a test are printed only when that test fails. Use with
 * {@code @ExtendWith(LogCapture.class)}.
 */
public final class LogCapture implements BeforeTestExecutionCallback, AfterTestExecutionCallback {
  @Override
  public void beforeTestExecution(ExtensionContext context) {
    CapturingAppender.clear();
  }

  @Override
  public void afterTestExecution(ExtensionContext context) {
    if (context.getExecutionException().isPresent()) {
      System.out.println("---- logs of failed test " + context.getDisplayName() + " ----");
      CapturingAppender.flushTo(System.out);
      System.out.println("---- end of logs ----");
    } else {
      CapturingAppender.clear();
    }
  }
}
