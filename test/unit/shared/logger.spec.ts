import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/shared/logger.js';

function capture(): {
  lines: () => Array<Record<string, unknown>>;
  stream: Writable & { write: Writable['write'] };
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('structured logger', () => {
  it('writes one JSON object per line with the event name and bound context', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream }).child({
      component: 'planner',
      app: 'a1',
    });
    log.info('plan.computed', { steps: 3 });
    const [line] = out.lines();
    assert.equal(line?.['event'], 'plan.computed');
    assert.equal(line?.['component'], 'planner');
    assert.equal(line?.['app'], 'a1');
    assert.equal(line?.['steps'], 3);
    assert.equal(line?.['level'], 'info');
  });

  it('redacts secrets by key name', () => {
    const out = capture();
    createLogger({ destination: out.stream }).info('config.loaded', {
      deviceApiKey: 's3cret',
      nested: { token: 't' },
    });
    const text = JSON.stringify(out.lines());
    assert.ok(!text.includes('s3cret'));
    assert.ok(!text.includes('"t"'));
  });

  it('throttles identical repeated errors and counts what it dropped', () => {
    const out = capture();
    let now = 0;
    const log = createLogger({ destination: out.stream, throttleMs: 1000, now: () => now });
    for (let i = 0; i < 5; i++) log.error('pull.failed', { err: new Error('401') });
    log.error('pull.failed', { err: new Error('other') });
    now = 2000;
    log.error('pull.failed', { err: new Error('401') });
    const lines = out.lines();
    assert.equal(lines.length, 3);
    assert.equal(lines[2]?.['suppressedRepeats'], 4);
  });
});
