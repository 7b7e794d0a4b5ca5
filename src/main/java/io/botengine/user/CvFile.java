package io.botengine.user;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Decides from its bytes whether an uploaded file is a CV the Runner accepts: PDF or UTF-8 text. */
public final class CvFile {
  private static final byte[] PDF_SIGNATURE = "%PDF-".getBytes(StandardCharsets.US_ASCII);

  /** The verdict on a file's content. */
  public enum Verdict {
    PDF,
    TEXT,
    EMPTY,
    TOO_LARGE,
    INVALID_FORMAT;

    public boolean accepted() {
      return this == PDF || this == TEXT;
    }
  }

  private CvFile() {}

  /** PDF by its {@code %PDF-} signature, text as valid UTF-8 without NUL bytes. */
  public static Verdict check(byte[] content, long maxBytes) {
    if (content.length == 0) {
      return Verdict.EMPTY;
    }
    if (content.length > maxBytes) {
      return Verdict.TOO_LARGE;
    }
    if (startsWith(content, PDF_SIGNATURE)) {
      return Verdict.PDF;
    }
    for (byte b : content) {
      if (b == 0) {
        return Verdict.INVALID_FORMAT;
      }
    }
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(content));
    } catch (CharacterCodingException e) {
      return Verdict.INVALID_FORMAT;
    }
    return isBlankText(content) ? Verdict.EMPTY : Verdict.TEXT;
  }

  private static boolean isBlankText(byte[] content) {
    return new String(content, StandardCharsets.UTF_8).replace("\uFEFF", "").isBlank();
  }

  private static boolean startsWith(byte[] content, byte[] prefix) {
    if (content.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (content[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
