import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/shared/logger.js';
import { formatForPeople } from '../../../src/shared/pretty-log.js';

function capture(): { text: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('console lines for people', () => {
  it('prints time, level, component, event and key fields, secrets still redacted', () => {
    const out = capture();
    const log = createLogger({ format: 'people', destination: out.stream }).child({
      component: 'reconciler',
    });
    log.warn('reconciler.updates-locked', { step: 'take-lock:7', apiKey: 'secret', steps: 2 });
    const line = out.text();
    assert.match(
      line,
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}reconciler reconciler\.updates-locked {2}step=take-lock:7 apiKey=\[redacted\] steps=2\n$/,
    );
    assert.doesNotMatch(line, /secret/);
  });

  it('puts the error last, with its code and message', () => {
    const text = formatForPeople(
      JSON.stringify({
        time: '2026-11-29T10:42:13.120Z',
        level: 'error',
        component: 'engine',
        event: 'engine.pull-failed',
        image: 'a b',
        err: { type: 'BosunError', code: 'PULL_FAILED', message: 'manifest unknown', stack: 'x' },
      }),
      false,
    );
    assert.equal(
      text,
      '10:42:13.120 ERROR engine     engine.pull-failed  image="a b" — PULL_FAILED: manifest unknown',
    );
  });

  it('colours the level only when asked, and passes non-JSON through', () => {
    const record = JSON.stringify({ time: '2026-01-01T00:00:00.000Z', level: 'info', event: 'x' });
    const esc = String.fromCharCode(27);
    assert.ok(!formatForPeople(record, false).includes(esc));
    assert.ok(formatForPeople(record, true).includes(`${esc}[32mINFO`));
    assert.equal(formatForPeople('not json', true), 'not json');
  });

  it('stays JSON by default', () => {
    const out = capture();
    createLogger({ destination: out.stream }).info('agent.starting', { version: '1' });
    const parsed = JSON.parse(out.text()) as Record<string, unknown>;
    assert.equal(parsed['event'], 'agent.starting');
  });
});
