/**
 * The engine streams pull progress and events as JSON documents separated by newlines, but HTTP chunks
 * do not respect those boundaries: this reassembles whole lines from arbitrary chunks.
 */
export async function* textLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  // stream mode: a multi-byte character split across two chunks is decoded once both have arrived.
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== '') yield line;
    }
  }
  const rest = (pending + decoder.decode()).trim();
  if (rest !== '') yield rest;
}

/** Parses one line; a line that is not a JSON object (a proxy's HTML, a truncated write) gives undefined. */
export function parseJsonObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
