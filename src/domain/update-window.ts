/**
 * Update windows: daily time ranges, in the device's time zone, inside which disruptive work (stopping,
 * removing, recreating a running service) may run. Pure: the planner asks `windowState(window, now)`
 * with the round's clock; the wall clock of a zone comes from `Intl` (the platform's tz database),
 * never from a hand-written table, so daylight-saving changes are the platform's.
 *
 * The schedule is written `HH:MM-HH:MM[,HH:MM-HH:MM…]` (24 h; `24:00` may end a range). A range whose
 * end is before its start crosses midnight (`22:00-02:00`). Start equal to end is refused: it could
 * mean "never" or "always", and a schedule must not be read either way by surprise.
 */

/** Minutes after local midnight: `start` inclusive, `end` exclusive; `end < start` crosses midnight. */
export interface WindowRange {
  readonly start: number;
  readonly end: number;
}

export interface UpdateWindow {
  readonly ranges: readonly WindowRange[];
  /** IANA zone name, e.g. `Europe/Berlin`. */
  readonly timeZone: string;
}

export type WindowState = { open: true } | { open: false; opensAt: number };

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** A schedule longer than this is refused (a config var is text from the cloud: keep it bounded). */
const MAX_RANGES = 24;

function minuteOfDay(text: string, allow24: boolean): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (m === null) return undefined;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (minutes > 59) return undefined;
  if (hours === 24 && minutes === 0 && allow24) return 24 * 60;
  return hours <= 23 ? hours * 60 + minutes : undefined;
}

/** Ranges from `HH:MM-HH:MM,…`, or undefined when any part does not parse. */
export function parseWindowRanges(raw: string): WindowRange[] | undefined {
  const parts = raw.split(',');
  if (parts.length > MAX_RANGES) return undefined;
  const ranges: WindowRange[] = [];
  for (const part of parts) {
    const bounds = part.split('-');
    if (bounds.length !== 2) return undefined;
    const start = minuteOfDay(bounds[0] as string, false);
    const end = minuteOfDay(bounds[1] as string, true);
    if (start === undefined || end === undefined || start === end) return undefined;
    ranges.push({ start, end });
  }
  return ranges;
}

/** True when `Intl` knows the zone (so every later wall-clock reading works). */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The wall clock of `zone` at `epochMs`, as the epoch ms that wall clock would be in UTC. */
function wallClock(epochMs: number, formatter: Intl.DateTimeFormat): number {
  const parts: Record<string, number> = {};
  for (const p of formatter.formatToParts(epochMs))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(
    parts['year'] ?? 1970,
    (parts['month'] ?? 1) - 1,
    parts['day'] ?? 1,
    parts['hour'] ?? 0,
    parts['minute'] ?? 0,
    parts['second'] ?? 0,
  );
  return wall + (((epochMs % 1000) + 1000) % 1000);
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

function inside(ranges: readonly WindowRange[], msOfDay: number): boolean {
  return ranges.some((r) => {
    const start = r.start * MINUTE_MS;
    const end = r.end * MINUTE_MS;
    return r.start < r.end ? msOfDay >= start && msOfDay < end : msOfDay >= start || msOfDay < end;
  });
}

function msOfDay(wall: number): number {
  return ((wall % DAY_MS) + DAY_MS) % DAY_MS;
}

/**
 * Open or closed at `now`, and when closed the epoch ms the next range opens. An empty schedule is
 * always closed (it is refused by the config parser; this only keeps the function total).
 */
export function windowState(window: UpdateWindow, now: number): WindowState {
  const formatter = formatterFor(window.timeZone);
  const wallNow = wallClock(now, formatter);
  if (inside(window.ranges, msOfDay(wallNow))) return { open: true };
  if (window.ranges.length === 0) return { open: false, opensAt: Number.MAX_SAFE_INTEGER };
  const today = msOfDay(wallNow);
  const wait = Math.min(
    ...window.ranges.map((r) => (((r.start * MINUTE_MS - today) % DAY_MS) + DAY_MS) % DAY_MS),
  );
  // `now + wait` is right when the zone's offset does not change in between. Across a daylight-saving
  // change, shift by the change. If that instant is not open, the range's start fell into a skipped
  // hour: the window opens when the clock jumps, the first open instant before `now + wait` (found by
  // halving, to the millisecond).
  const naive = now + wait;
  const shift = wallClock(naive, formatter) - naive - (wallNow - now);
  if (shift === 0) return { open: false, opensAt: naive };
  const openAt = (t: number): boolean =>
    t > now && inside(window.ranges, msOfDay(wallClock(t, formatter)));
  const corrected = naive - shift;
  if (openAt(corrected)) return { open: false, opensAt: corrected };
  if (corrected > naive || !openAt(naive)) return { open: false, opensAt: naive };
  let closed = corrected;
  let open = naive;
  while (open - closed > 1) {
    const mid = closed + Math.floor((open - closed) / 2);
    if (openAt(mid)) open = mid;
    else closed = mid;
  }
  return { open: false, opensAt: open };
}

/** `HH:MM-HH:MM` text of one range, for messages. */
export function describeRange(r: WindowRange): string {
  const hhmm = (m: number): string =>
    `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return `${hhmm(r.start)}-${hhmm(r.end)}`;
}
