/**
 * Reasons shown to the user are sometimes built from a file's own bytes (JSON.parse quotes the
 * text it choked on). A damaged file can hold NULs, escapes or terminal control sequences, which
 * must not reach a terminal, a JSON line or the UI raw: they are spelled out as \uXXXX instead.
 */
export function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what we look for
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
