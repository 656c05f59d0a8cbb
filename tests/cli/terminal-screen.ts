const ERASE_LINE = '\x1b[2K';

/**
 * The lines a terminal ends up showing for what was written to it: \r moves back to the start
 * of the line and what follows overwrites it, ESC[2K erases the line. Enough of a terminal to
 * tell a cleared progress line from one left behind.
 */
export function rendered(text: string): string[] {
  const lines: string[] = [];
  let line: string[] = [];
  let column = 0;
  for (let i = 0; i < text.length;) {
    if (text.startsWith(ERASE_LINE, i)) {
      line = [];
      i += ERASE_LINE.length;
      continue;
    }
    const char = text.codePointAt(i)!;
    const s = String.fromCodePoint(char);
    i += s.length;
    if (s === '\r') column = 0;
    else if (s === '\n') {
      lines.push(line.join(''));
      line = [];
      column = 0;
    } else line[column++] = s;
  }
  if (line.length > 0) lines.push(line.join(''));
  return lines;
}
