/**
 * Update windows on the wall clock of a zone: parsing the schedule, inside/outside, across midnight,
 * other zones and daylight-saving changes (the zone data is the platform's, read through Intl).
 */
import assert from 'node:assert/strict';
import {
  describeRange,
  isTimeZone,
  parseWindowRanges,
  windowState,
  type UpdateWindow,
} from '../../../src/domain/update-window.js';

const at = (iso: string): number => Date.parse(iso);
const win = (raw: string, timeZone = 'UTC'): UpdateWindow => {
  const ranges = parseWindowRanges(raw);
  assert.ok(ranges !== undefined, `${raw} parses`);
  return { ranges, timeZone };
};

describe('update window schedule', () => {
  it('parses comma-separated daily ranges, 24:00 as an end, ranges across midnight', () => {
    assert.deepEqual(parseWindowRanges('02:00-04:00, 22:30-24:00'), [
      { start: 120, end: 240 },
      { start: 1350, end: 1440 },
    ]);
    assert.deepEqual(parseWindowRanges('23:00-1:15'), [{ start: 1380, end: 75 }]);
    assert.equal(describeRange({ start: 1380, end: 75 }), '23:00-01:15');
  });

  it('refuses what it cannot read unambiguously', () => {
    for (const bad of [
      '',
      '02:00',
      '02:00-04:00-05:00',
      '25:00-01:00',
      '24:00-01:00',
      '02:60-03:00',
      '02:00-02:00',
      '2-4',
      '02:00-04:00,',
      'nightly',
      Array.from({ length: 25 }, () => '01:00-02:00').join(','),
    ])
      assert.equal(parseWindowRanges(bad), undefined, bad);
  });

  it('knows the zones Intl knows', () => {
    assert.ok(isTimeZone('Europe/Berlin'));
    assert.ok(isTimeZone('UTC'));
    assert.equal(isTimeZone('Mars/Olympus_Mons'), false);
    assert.equal(isTimeZone(''), false);
  });
});

describe('update window state', () => {
  it('inside a range it is open; outside it opens at the next start (later today or tomorrow)', () => {
    const w = win('02:00-04:00,13:00-14:00');
    assert.deepEqual(windowState(w, at('2026-03-01T02:00:00Z')), { open: true });
    assert.deepEqual(windowState(w, at('2026-03-01T03:59:59.999Z')), { open: true });
    assert.deepEqual(windowState(w, at('2026-03-01T04:00:00Z')), {
      open: false,
      opensAt: at('2026-03-01T13:00:00Z'),
    });
    assert.deepEqual(windowState(w, at('2026-03-01T14:00:00.500Z')), {
      open: false,
      opensAt: at('2026-03-02T02:00:00Z'),
    });
  });

  it('a range across midnight is open on both sides of it and closed at its end', () => {
    const w = win('22:00-02:00');
    assert.deepEqual(windowState(w, at('2026-03-01T23:30:00Z')), { open: true });
    assert.deepEqual(windowState(w, at('2026-03-02T01:59:00Z')), { open: true });
    assert.deepEqual(windowState(w, at('2026-03-02T02:00:00Z')), {
      open: false,
      opensAt: at('2026-03-02T22:00:00Z'),
    });
    assert.deepEqual(windowState(w, at('2026-03-02T21:59:30Z')), {
      open: false,
      opensAt: at('2026-03-02T22:00:00Z'),
    });
  });

  it('reads the wall clock of its zone, in winter and in summer', () => {
    const w = win('02:00-04:00', 'Europe/Berlin');
    // Winter: UTC+1. 01:30Z is 02:30 in Berlin; 03:30Z is 04:30.
    assert.deepEqual(windowState(w, at('2026-01-15T01:30:00Z')), { open: true });
    assert.deepEqual(windowState(w, at('2026-01-15T03:30:00Z')), {
      open: false,
      opensAt: at('2026-01-16T01:00:00Z'),
    });
    // Summer: UTC+2. 00:30Z is 02:30 in Berlin; 02:30Z is 04:30.
    assert.deepEqual(windowState(w, at('2026-07-15T00:30:00Z')), { open: true });
    assert.deepEqual(windowState(w, at('2026-07-15T02:30:00Z')), {
      open: false,
      opensAt: at('2026-07-16T00:00:00Z'),
    });
    // The same instant is inside in one zone and outside in another.
    assert.deepEqual(windowState(win('02:00-04:00', 'Asia/Tokyo'), at('2026-01-15T01:30:00Z')), {
      open: false,
      opensAt: at('2026-01-15T17:00:00Z'),
    });
  });

  it('across a daylight-saving change the next opening is on the new offset', () => {
    // New York falls back on 2026-11-01 at 02:00 EDT (to 01:00 EST). From midnight EDT (04:00Z),
    // 03:00 local is 08:00Z, not 07:00Z.
    assert.deepEqual(
      windowState(win('03:00-04:00', 'America/New_York'), at('2026-11-01T04:00:00Z')),
      { open: false, opensAt: at('2026-11-01T08:00:00Z') },
    );
    // It springs forward on 2026-03-08 at 02:00 EST (to 03:00 EDT): 03:30 local is 07:30Z.
    assert.deepEqual(
      windowState(win('03:30-04:00', 'America/New_York'), at('2026-03-08T05:00:00Z')),
      { open: false, opensAt: at('2026-03-08T07:30:00Z') },
    );
    // A start inside the skipped hour (02:30) opens when the clock jumps to 03:00 EDT (07:00Z).
    assert.deepEqual(
      windowState(win('02:30-04:00', 'America/New_York'), at('2026-03-08T05:00:00Z')),
      { open: false, opensAt: at('2026-03-08T07:00:00Z') },
    );
  });
});
