/**
 * Log event names have one style (docs/logging in README.md): `component.event-name`, lower-case,
 * dot between component and event, kebab-case words, more dots for sub-components
 * (`engine.pull.failed`). Every call to the injected logger in `src/` is read with the TypeScript
 * parser, so a call split over lines or a conditional name is checked too.
 */
import assert from 'node:assert/strict';
import { logCalls, parseSource, sourceFiles } from '../../support/source-scan.js';

const EVENT_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)+$/;

describe('log event names', () => {
  const calls = sourceFiles().flatMap(logCalls);

  it('finds the logger calls of src/ (the scan itself works)', () => {
    // bosun logs from over a hundred places; a scan that finds a handful has stopped working.
    assert.ok(calls.length > 80, `only ${calls.length} logger calls found in src/`);
    assert.ok(calls.some((c) => c.events.includes('cloud.poll-failed')));
  });

  it('are literals, so each event can be found with grep', () => {
    const computed = calls.filter((c) => c.events.length === 0);
    assert.deepEqual(
      computed.map((c) => `${c.path}:${c.line} ${c.text}`),
      [],
      'logger calls whose event name is not a string literal',
    );
  });

  it('all follow component.event-name', () => {
    const wrong = calls.flatMap((c) =>
      c.events.filter((e) => !EVENT_NAME.test(e)).map((e) => `${c.path}:${c.line} '${e}'`),
    );
    assert.deepEqual(wrong, [], 'event names not in component.event-name style');
  });

  it('the scan catches the styles it must refuse', () => {
    const file = parseSource(
      'src/made-up.ts',
      [
        "log.info('local_mode_entered');",
        'this.deps.logger.warn(',
        "  'storeOpened', {});",
        "log.child({ a: 1 }).error(ok ? 'cloud.fine' : 'Cloud.Bad');",
        "this.log[level]('poll_failed');",
        'logger.debug(name);',
        "console.error('not_a_bosun_logger');",
        "issues.warn('not_a_logger_either');",
      ].join('\n'),
    );
    const found = logCalls(file);
    assert.deepEqual(
      found.map((c) => [c.line, c.events]),
      [
        [1, ['local_mode_entered']],
        [2, ['storeOpened']],
        [4, ['cloud.fine', 'Cloud.Bad']],
        [5, ['poll_failed']],
        [6, []],
      ],
    );
    const refused = found.flatMap((c) => c.events).filter((e) => !EVENT_NAME.test(e));
    assert.deepEqual(refused, ['local_mode_entered', 'storeOpened', 'Cloud.Bad', 'poll_failed']);
    for (const good of [
      'cloud.poll-failed',
      'engine.pull.progress-callback-failed',
      'api-key.revoked',
    ])
      assert.match(good, EVENT_NAME);
    for (const bad of [
      'cloud',
      'cloud.',
      '.poll',
      'cloud.poll--failed',
      'cloud.poll_failed',
      'cloud.-x',
    ])
      assert.doesNotMatch(bad, EVENT_NAME);
  });
});
