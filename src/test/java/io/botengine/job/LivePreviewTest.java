package io.botengine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.botengine.telegram.ChatOutbox;
import io.botengine.telegram.Outgoing;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The preview of a streamed output, driven call by call (the task actor's timers are {@link
 * LivePreview#rested} and {@link LivePreview#refresh}; {@code TaskActorTest} drives them with
 * manual time): coalescing, the rest between calls, the draft refresh, the 4096 split, the switch
 * to edits, and the end.
 */
class LivePreviewTest {
  private static final String JOB = "job-1";

  private static RunnerFrame.Delta delta(long index, String text) {
    return new RunnerFrame.Delta(index, text);
  }

  private static String draftText(List<Outgoing> calls) {
    assertEquals(1, calls.size(), calls.toString());
    return assertInstanceOf(Outgoing.Draft.class, calls.get(0)).text();
  }

  @Test
  void coalescesWhatArrivesWhileACallIsInFlightOrTheDisplayRests() {
    LivePreview preview = new LivePreview(LivePreview.Mode.DRAFT, JOB, 0);
    List<Outgoing> first = preview.delta(delta(1, "Сильные "), 1);
    assertEquals("Сильные", draftText(first));
    assertTrue(preview.resting());
    assertEquals(List.of(), preview.delta(delta(1, "стороны: "), 1), "a call is in flight");
    assertEquals(List.of(), preview.delta(delta(1, "Java, "), 1));
    assertEquals(List.of(), preview.callDone(first.get(0), 0, 1), "the interval rests");
    assertEquals(List.of(), preview.delta(delta(1, "Akka."), 1));

    List<Outgoing> second = preview.rested(1);
    assertEquals("Сильные стороны: Java, Akka.", draftText(second), "everything, in one call");
    Outgoing.Draft a = (Outgoing.Draft) first.get(0);
    Outgoing.Draft b = (Outgoing.Draft) second.get(0);
    assertEquals(a.draftId(), b.draftId(), "the same draft grows");
    assertTrue(a.draftId() != 0);
  }

  @Test
  void showsNothingWhileAnotherOutputIsOnItsWayThenCatchesUp() {
    LivePreview preview = new LivePreview(LivePreview.Mode.DRAFT, JOB, 0);
    assertEquals(List.of(), preview.delta(delta(2, "Анализ "), -1), "output 1 in flight");
    assertEquals(List.of(), preview.delta(delta(2, "готов"), 1), "not the next to deliver");
    assertEquals("Анализ готов", draftText(preview.resume(2)));
  }

  @Test
  void dropsDeltasOfOutputsAlreadyDeliveredOrComplete() {
    LivePreview preview = new LivePreview(LivePreview.Mode.DRAFT, JOB, 3);
    assertEquals(List.of(), preview.delta(delta(3, "replayed"), 4), "index 3 was delivered");
    preview.close(4);
    assertEquals(List.of(), preview.delta(delta(4, "after the complete frame"), 4));
    assertEquals(Optional.empty(), preview.orphan(5));
  }

  @Test
  void refreshesTheDraftShownBeforeItExpires() {
    LivePreview preview = new LivePreview(LivePreview.Mode.DRAFT, JOB, 0);
    List<Outgoing> first = preview.delta(delta(1, "Пауза в генерации"), 1);
    assertEquals(List.of(), preview.refresh(1), "a call is still in flight");
    preview.callDone(first.get(0), 0, 1);
    preview.rested(1);
    assertTrue(preview.drafting());
    assertEquals(first, preview.refresh(1), "the same draft, sent again");
    preview.close(1);
    assertEquals(List.of(), preview.refresh(1), "an output that is complete is not previewed");
  }

  @Test
  void sendsFinishedPartsPastTheLimitAndPreviewsTheRest() {
    LivePreview preview = new LivePreview(LivePreview.Mode.DRAFT, JOB, 0);
    String first = "а".repeat(3000);
    String second = "б".repeat(3000);
    String third = "в".repeat(100);
    List<Outgoing> calls = preview.delta(delta(1, first + "\n\n"), 1);
    assertEquals(first, draftText(calls));
    preview.callDone(calls.get(0), 0, 1);
    preview.delta(delta(1, second + "\n\n" + third), 1);

    List<Outgoing> split = preview.rested(1);
    assertEquals(2, split.size(), split.toString());
    assertEquals(new Outgoing.Text(first, OutputRenderer.MARKDOWN), split.get(0),
        "the finished part is a real message at once");
    assertEquals(second + "\n\n" + third,
        assertInstanceOf(Outgoing.Draft.class, split.get(1)).text(), "the rest stays a draft");

    String full = first + "\n\n" + second + "\n\n" + third;
    List<Outgoing> delivery = preview.finalParts(1, OutputRenderer.render(
        new RunnerFrame.Output(1L, RunnerFrame.Kind.TEXT, full, null, null)));
    assertEquals(List.of(new Outgoing.Text(second + "\n\n" + third, OutputRenderer.MARKDOWN)),
        delivery, "the complete output sends only what was not sent yet");
  }

  @Test
  void switchesToAnEditedMessageWhenDraftsAreRefusedAndFinishesItWithTheOutput() {
    LivePreview preview = new LivePreview(LivePreview.Mode.DRAFT, JOB, 0);
    List<Outgoing> draft = preview.delta(delta(1, "Первые "), 1);
    assertEquals(List.of(), preview.callDone(draft.get(0), ChatOutbox.DRAFTS_REFUSED, 1));
    assertEquals(LivePreview.Mode.EDIT, preview.mode());

    List<Outgoing> create = preview.rested(1);
    assertEquals(List.of(Outgoing.Text.plain("Первые")), create);
    preview.delta(delta(1, "слова"), 1);
    assertEquals(List.of(), preview.callDone(create.get(0), 42, 1));
    assertEquals(List.of(new Outgoing.Edit(42, "Первые слова")), preview.rested(1));

    List<Outgoing> delivery = preview.finalParts(1, OutputRenderer.render(
        new RunnerFrame.Output(1L, RunnerFrame.Kind.TEXT, "*Первые слова*", null, null)));
    assertEquals(List.of(new Outgoing.Edit(42, "*Первые слова*", OutputRenderer.MARKDOWN)),
        delivery, "the last edit is the full text, and that message is the delivery");
    assertEquals(List.of(), preview.end(), "nothing left to delete");
  }

  @Test
  void endsADraftSilentlyAndDeletesAnEditedMessage() {
    LivePreview drafts = new LivePreview(LivePreview.Mode.DRAFT, JOB, 0);
    drafts.delta(delta(1, "черновик"), 1);
    assertEquals(List.of(), drafts.end());

    LivePreview edits = new LivePreview(LivePreview.Mode.EDIT, JOB, 0);
    List<Outgoing> create = edits.delta(delta(1, "сообщение"), 1);
    edits.callDone(create.get(0), 77, 1);
    assertEquals(List.of(new Outgoing.Delete(77)), edits.end());
    assertEquals(List.of(), edits.delta(delta(1, " ещё"), 1), "nothing after the end");
  }

  @Test
  void turnsTheDeltasIntoTheOutputWhenItsCompleteFrameNeverCame() {
    LivePreview preview = new LivePreview(LivePreview.Mode.DRAFT, JOB, 0);
    preview.delta(delta(1, "Только "), 1);
    preview.delta(delta(1, "дельты"), 1);
    assertEquals(Optional.empty(), preview.orphan(1));
    assertEquals(Optional.of(new RunnerFrame.Output(1L, RunnerFrame.Kind.TEXT, "Только дельты",
        null, null)), preview.orphan(2));
    assertEquals(Optional.empty(), preview.orphan(Long.MAX_VALUE), "once");
  }

  @Test
  void keepsTheDraftWhileAReconnectionReplaysTheDeltasThenGrowsIt() {
    LivePreview preview = new LivePreview(LivePreview.Mode.DRAFT, JOB, 0);
    List<Outgoing> first = preview.delta(delta(1, "Сильные стороны: "), 1);
    preview.callDone(first.get(0), 0, 1);
    preview.rested(1);
    preview.reconnected();
    assertEquals(List.of(), preview.delta(delta(1, "Сильные "), 1), "replayed, already shown");
    assertEquals(List.of(), preview.delta(delta(1, "стороны: "), 1));
    assertEquals("Сильные стороны: Java", draftText(preview.delta(delta(1, "Java"), 1)));
  }

  @Test
  void recordsTheEditedMessageItCreatesAndFinishesOneAnEarlierTaskLeft() {
    LivePreview first = new LivePreview(LivePreview.Mode.EDIT, JOB, 1);
    List<Outgoing> create = first.delta(delta(2, "Начало"), 2);
    assertEquals(Optional.empty(), first.takeCreated());
    first.callDone(create.get(0), 55, 2);
    assertEquals(Optional.of(new LivePreview.Created(2, 55)), first.takeCreated());
    assertEquals(Optional.empty(), first.takeCreated(), "once");

    LivePreview resumed = new LivePreview(LivePreview.Mode.EDIT, JOB, 1);
    resumed.adopt(2, 55);
    assertEquals(List.of(new Outgoing.Edit(55, "Начало")), resumed.delta(delta(2, "Начало"), 2),
        "the message left behind is edited on, not sent again");
    assertEquals(List.of(new Outgoing.Edit(55, "Начало и конец", OutputRenderer.MARKDOWN)),
        resumed.finalParts(2, OutputRenderer.render(new RunnerFrame.Output(2L,
            RunnerFrame.Kind.TEXT, "Начало и конец", null, null))));

    LivePreview cancelled = new LivePreview(LivePreview.Mode.DRAFT, JOB, 1);
    cancelled.adopt(2, 56);
    assertEquals(List.of(new Outgoing.Delete(56)), cancelled.end());
  }

  @Test
  void ignoresDeltasWhenOff() {
    LivePreview preview = new LivePreview(LivePreview.Mode.OFF, JOB, 0);
    assertEquals(List.of(), preview.delta(delta(1, "x"), 1));
    assertEquals(Optional.empty(), preview.orphan(2));
  }
}
