package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.telegram.Outgoing;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The status message of a job: created once, edited at most once per rest, deleted at the end. */
class ProgressDisplayTest {

  private static RunnerFrame.Progress progress(int percent) {
    return new RunnerFrame.Progress(percent, "Шаг " + percent);
  }

  @Test
  void createsTheStatusMessageAtTheFirstProgressThenEditsItAfterEachRest() {
    ProgressDisplay display = new ProgressDisplay();
    Optional<Outgoing> first = display.progress(progress(10));
    assertEquals(Optional.of(Outgoing.Text.plain("⏳ ▓░░░░░░░░░ 10%\nШаг 10")), first);
    assertEquals(Optional.empty(), display.progress(progress(20)), "no second message meanwhile");

    assertEquals(Optional.empty(), display.created(77));
    assertTrue(display.resting());
    assertEquals(Optional.empty(), display.progress(progress(30)), "resting: the edit waits");
    assertEquals(Optional.of(new Outgoing.Edit(77, ProgressDisplay.text(progress(30)))),
        display.rested(), "the latest progress, once the rest is over");
    assertTrue(display.resting(), "an edit starts another rest");

    assertEquals(Optional.empty(), display.rested(), "nothing new: no edit");
    assertFalse(display.resting());
    assertEquals(Optional.of(new Outgoing.Edit(77, ProgressDisplay.text(progress(40)))),
        display.progress(progress(40)), "after a quiet rest an edit goes at once");
  }

  @Test
  void neverEditsToTheTextAlreadyShown() {
    ProgressDisplay display = new ProgressDisplay();
    display.progress(progress(50));
    display.created(5);
    display.progress(progress(50));
    assertEquals(Optional.empty(), display.rested());
  }

  @Test
  void drawsTenCellsAndOmitsAnEmptyText() {
    assertEquals("⏳ ░░░░░░░░░░ 0%", ProgressDisplay.text(new RunnerFrame.Progress(0, "")));
    assertEquals("⏳ ▓▓▓▓▓▓▓▓▓▓ 100%\nГотово",
        ProgressDisplay.text(new RunnerFrame.Progress(100, "Готово")));
  }
}
