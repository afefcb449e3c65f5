/**
 * Splits a compose `command`/`entrypoint` string the way a POSIX shell would split words (quotes and
 * backslashes), without expanding anything: `$VAR` stays literal, as balena does
 * (docs/protocol.md#command-and-entrypoint).
 */
export function splitShellWords(text: string): string[] | { error: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!))
        word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { error: 'ends with a lone backslash' };
      const next = text[++i]!;
      if (next !== '\n') word += next;
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return { error: `has an unterminated ${quote} quote` };
  if (inWord) words.push(word);
  return words;
}
