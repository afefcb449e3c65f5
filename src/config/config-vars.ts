/**
 * Supervisor config vars (docs/protocol.md#config-vars): the `config` record of a target, resolved into one
 * immutable typed value. Each var may arrive as `BALENA_X`, `RESIN_X` or plain `X`; the first
 * present in that order wins. A value that does not parse falls back to the var's default and
 * yields a warning naming the var and the value, so one typo never blocks an update.
 */

import type { Logger } from '../shared/logger.js';
import {
  describeRange,
  isTimeZone,
  parseWindowRanges,
  type UpdateWindow,
  type WindowRange,
} from '../domain/update-window.js';

export type FirewallMode = 'on' | 'off' | 'auto';

export interface SupervisorConfig {
  /** SUPERVISOR_POLL_INTERVAL: target poll interval, ms (also caps backoffs). */
  readonly appUpdatePollInterval: number;
  /** SUPERVISOR_INSTANT_UPDATE_TRIGGER: act on `POST /v1/update` notifications. */
  readonly instantUpdates: boolean;
  /** SUPERVISOR_LOCAL_MODE. */
  readonly localMode: boolean;
  /** SUPERVISOR_CONNECTIVITY_CHECK. */
  readonly connectivityCheckEnabled: boolean;
  /** SUPERVISOR_LOG_CONTROL: publish logs to the backend. */
  readonly loggingEnabled: boolean;
  /** SUPERVISOR_API_REQUEST_TIMEOUT: cloud API call timeout, ms. */
  readonly apiRequestTimeout: number;
  /** SUPERVISOR_DELTA: use delta downloads. */
  readonly delta: boolean;
  /** SUPERVISOR_DELTA_REQUEST_TIMEOUT, ms. */
  readonly deltaRequestTimeout: number;
  /** SUPERVISOR_DELTA_APPLY_TIMEOUT, ms (0 = none). */
  readonly deltaApplyTimeout: number;
  /** SUPERVISOR_DELTA_RETRY_COUNT. */
  readonly deltaRetryCount: number;
  /** SUPERVISOR_DELTA_RETRY_INTERVAL, ms. */
  readonly deltaRetryInterval: number;
  /** SUPERVISOR_DELTA_VERSION: 2 or 3. */
  readonly deltaVersion: 2 | 3;
  /** SUPERVISOR_OVERRIDE_LOCK (legacy OVERRIDE_LOCK): ignore update locks. */
  readonly lockOverride: boolean;
  /** SUPERVISOR_PERSISTENT_LOGGING (needs a reboot). */
  readonly persistentLogging: boolean;
  /** SUPERVISOR_HARDWARE_METRICS: send hardware metrics. */
  readonly hardwareMetrics: boolean;
  /** HOST_FIREWALL_MODE. */
  readonly firewallMode: FirewallMode;
  /** HOST_DISCOVERABILITY: advertise over mDNS. */
  readonly hostDiscoverability: boolean;
  /** SUPERVISOR_VPN_CONTROL. */
  readonly vpnControl: boolean;
  /** SUPERVISOR_DISK_RESERVE: bytes a download must leave free on the engine's data root (bosun's own). */
  readonly diskReserveBytes: number;
  /** SUPERVISOR_UPDATE_ROLLBACK (bosun): roll a release that fails its confirmation window back. */
  readonly updateRollback: boolean;
  /** SUPERVISOR_UPDATE_ROLLBACK_WINDOW (bosun): the confirmation window after an update, ms. */
  readonly updateRollbackWindow: number;
  /**
   * SUPERVISOR_UPDATE_WINDOW (bosun's own): daily ranges `HH:MM-HH:MM,…` in which disruptive update
   * steps may run; null (unset) means any time, as balena-supervisor does.
   */
  readonly updateWindow: readonly WindowRange[] | null;
  /** SUPERVISOR_UPDATE_WINDOW_TIMEZONE (bosun's own): IANA zone of the window; null = the device's zone. */
  readonly updateWindowTimeZone: string | null;
}

interface VarSpec<T> {
  /** Unprefixed config var name. */
  readonly name: string;
  /** Older spellings, tried (with prefixes) after every spelling of `name`. */
  readonly legacy?: readonly string[];
  readonly defaultValue: T;
  /** The typed value, or undefined when `raw` is not acceptable. */
  readonly parse: (raw: string) => T | undefined;
  /** What is acceptable, for the warning. */
  readonly expected: string;
  /** The value as config var text (default String(value)), e.g. for the initial config report. */
  readonly format?: (value: T) => string;
}

const TRUE = new Set(['true', '1', 'on', 'yes']);
const FALSE = new Set(['false', '0', 'off', 'no']);

function bool(name: string, defaultValue: boolean): VarSpec<boolean> {
  return {
    name,
    defaultValue,
    expected: 'true/false, 1/0, on/off',
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      return TRUE.has(v) ? true : FALSE.has(v) ? false : undefined;
    },
  };
}

/** Integers in decimal only: upstream's parseInt would read "10s" as 10, which hides typos. */
function int(name: string, defaultValue: number, min: number): VarSpec<number> {
  return {
    name,
    defaultValue,
    expected: `an integer ≥ ${min}`,
    parse: (raw) => {
      const v = raw.trim();
      if (!/^\d+$/.test(v)) return undefined;
      const n = Number(v);
      return Number.isSafeInteger(n) && n >= min ? n : undefined;
    },
  };
}

function oneOf<T extends string | number>(
  name: string,
  defaultValue: T,
  values: readonly T[],
): VarSpec<T> {
  return {
    name,
    defaultValue,
    expected: `one of ${values.join(', ')}`,
    parse: (raw) => values.find((v) => String(v) === raw.trim().toLowerCase()),
  };
}

const UNITS: Readonly<Record<string, number>> = {
  '': 2 ** 20,
  b: 1,
  k: 2 ** 10,
  kb: 1e3,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 1e6,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 1e9,
  gib: 2 ** 30,
};

/** A size: an integer with an optional unit (`256`, `256M`, `1GiB`, `500MB`); no unit means MiB. */
function size(name: string, defaultValue: number): VarSpec<number> {
  return {
    name,
    defaultValue,
    expected: 'a size such as 256 (MiB), 512M, 1G, 1GB or 300000000B',
    parse: (raw) => {
      const match = /^(\d+)\s*([a-z]*)$/.exec(raw.trim().toLowerCase());
      const unit = match === null ? undefined : UNITS[match[2] as string];
      if (match === null || unit === undefined) return undefined;
      const n = Number(match[1]) * unit;
      return Number.isSafeInteger(n) ? n : undefined;
    },
  };
}

const updateWindowSpec: VarSpec<readonly WindowRange[] | null> = {
  name: 'SUPERVISOR_UPDATE_WINDOW',
  defaultValue: null,
  expected: 'daily ranges HH:MM-HH:MM, comma-separated (e.g. 02:00-04:00,22:30-23:30)',
  parse: (raw) => parseWindowRanges(raw) ?? undefined,
  format: (ranges) => (ranges === null ? '' : ranges.map(describeRange).join(',')),
};

const timeZoneSpec: VarSpec<string | null> = {
  name: 'SUPERVISOR_UPDATE_WINDOW_TIMEZONE',
  defaultValue: null,
  expected: 'an IANA time zone name (e.g. Europe/Berlin)',
  parse: (raw) => (isTimeZone(raw.trim()) ? raw.trim() : undefined),
  format: (zone) => zone ?? '',
};

type Specs = { readonly [K in keyof SupervisorConfig]: VarSpec<SupervisorConfig[K]> };

/**
 * Defaults are upstream's code defaults (docs/protocol.md#config-vars), where the code and docs disagree too.
 */
export const CONFIG_VAR_SPECS: Specs = {
  // A floor of 10 s: 0 would make the poll and every backoff capped by it spin.
  appUpdatePollInterval: int('SUPERVISOR_POLL_INTERVAL', 900_000, 10_000),
  instantUpdates: bool('SUPERVISOR_INSTANT_UPDATE_TRIGGER', true),
  localMode: bool('SUPERVISOR_LOCAL_MODE', false),
  connectivityCheckEnabled: bool('SUPERVISOR_CONNECTIVITY_CHECK', true),
  loggingEnabled: bool('SUPERVISOR_LOG_CONTROL', true),
  apiRequestTimeout: int('SUPERVISOR_API_REQUEST_TIMEOUT', 59_000, 1),
  delta: bool('SUPERVISOR_DELTA', false),
  deltaRequestTimeout: int('SUPERVISOR_DELTA_REQUEST_TIMEOUT', 59_000, 1),
  deltaApplyTimeout: int('SUPERVISOR_DELTA_APPLY_TIMEOUT', 0, 0),
  deltaRetryCount: int('SUPERVISOR_DELTA_RETRY_COUNT', 30, 0),
  deltaRetryInterval: int('SUPERVISOR_DELTA_RETRY_INTERVAL', 10_000, 0),
  deltaVersion: oneOf<2 | 3>('SUPERVISOR_DELTA_VERSION', 2, [2, 3]),
  lockOverride: { ...bool('SUPERVISOR_OVERRIDE_LOCK', false), legacy: ['OVERRIDE_LOCK'] },
  persistentLogging: bool('SUPERVISOR_PERSISTENT_LOGGING', false),
  hardwareMetrics: bool('SUPERVISOR_HARDWARE_METRICS', true),
  firewallMode: oneOf<FirewallMode>('HOST_FIREWALL_MODE', 'off', ['on', 'off', 'auto']),
  hostDiscoverability: bool('HOST_DISCOVERABILITY', true),
  vpnControl: bool('SUPERVISOR_VPN_CONTROL', true),
  // bosun's own (issue 14). 256 MiB is about 3 % of an 8 GB card: room for the log spool (128 MiB on
  // disk), the store, the journal and the engine's own writes after a download has landed.
  diskReserveBytes: size('SUPERVISOR_DISK_RESERVE', 256 * 2 ** 20),
  // bosun's own (docs/configuration.md): on, but only ever for cloud targets (never in local mode).
  updateRollback: bool('SUPERVISOR_UPDATE_ROLLBACK', true),
  // A floor of 1 s: a shorter window could not see a crash loop at all.
  updateRollbackWindow: int('SUPERVISOR_UPDATE_ROLLBACK_WINDOW', 300_000, 1_000),
  updateWindow: updateWindowSpec,
  updateWindowTimeZone: timeZoneSpec,
};

const PREFIXES = ['BALENA_', 'RESIN_', ''] as const;

export interface ConfigVarWarning {
  /** The spelling that was used, e.g. RESIN_SUPERVISOR_POLL_INTERVAL. */
  readonly variable: string;
  readonly value: string;
  readonly expected: string;
  /** The default used instead, as text. */
  readonly fallback: string;
}

export interface ResolvedConfigVars {
  readonly config: SupervisorConfig;
  readonly warnings: readonly ConfigVarWarning[];
}

/** The spelling present in `vars` with the highest precedence, with its value. An empty value counts as unset. */
function pick(
  vars: Readonly<Record<string, string>>,
  spec: Pick<VarSpec<unknown>, 'name' | 'legacy'>,
): [string, string] | undefined {
  for (const name of [spec.name, ...(spec.legacy ?? [])]) {
    for (const prefix of PREFIXES) {
      const variable = `${prefix}${name}`;
      const value = vars[variable];
      if (value !== undefined && value !== '') return [variable, value];
    }
  }
  return undefined;
}

function resolveOne<T>(
  vars: Readonly<Record<string, string>>,
  spec: VarSpec<T>,
  warnings: ConfigVarWarning[],
): T {
  const found = pick(vars, spec);
  if (!found) return spec.defaultValue;
  const [variable, value] = found;
  const parsed = spec.parse(value);
  if (parsed !== undefined) return parsed;
  warnings.push({ variable, value, expected: spec.expected, fallback: String(spec.defaultValue) });
  return spec.defaultValue;
}

/** Pure: resolves a target's config record. Unknown vars are ignored (other modules read HOST_CONFIG_* etc.). */
export function resolveConfigVars(vars: Readonly<Record<string, string>>): ResolvedConfigVars {
  const warnings: ConfigVarWarning[] = [];
  const resolveKey = <K extends keyof SupervisorConfig>(key: K): SupervisorConfig[K] =>
    resolveOne(vars, CONFIG_VAR_SPECS[key], warnings);
  const keys = Object.keys(CONFIG_VAR_SPECS) as (keyof SupervisorConfig)[];
  const config = Object.fromEntries(
    keys.map((key) => [key, resolveKey(key)]),
  ) as unknown as SupervisorConfig;
  return { config: Object.freeze(config), warnings: Object.freeze(warnings) };
}

/** The defaults, as used before any target arrived. */
export const DEFAULT_SUPERVISOR_CONFIG: SupervisorConfig = resolveConfigVars({}).config;

/** resolveConfigVars, logging each fallback as `configVarInvalid` (var, value, expected, default used). */
export function resolveConfigVarsAndWarn(
  vars: Readonly<Record<string, string>>,
  logger: Logger,
): SupervisorConfig {
  const { config, warnings } = resolveConfigVars(vars);
  for (const w of warnings) {
    logger.warn('config-var.invalid', {
      variable: w.variable,
      value: w.value,
      expected: w.expected,
      fallback: w.fallback,
      message: `Ignoring invalid value '${w.value}' of ${w.variable} (expected ${w.expected}); using the default ${w.fallback}`,
    });
  }
  return config;
}

/**
 * The update window the planner enforces, or undefined when none is set. The zone is the config var's,
 * else the device's: this process's (`TZ`, else the system zone), as `Intl` resolves it.
 */
export function updateWindowOf(
  config: SupervisorConfig,
  deviceZone: string = new Intl.DateTimeFormat().resolvedOptions().timeZone,
): UpdateWindow | undefined {
  if (config.updateWindow === null) return undefined;
  return { ranges: config.updateWindow, timeZone: config.updateWindowTimeZone ?? deviceZone };
}

/** What a target's config vars change in planning: the lock override and the update window. */
export function planSettingsOf(vars: Readonly<Record<string, string>>): {
  lockOverride: boolean;
  updateWindow: UpdateWindow | undefined;
} {
  const { config } = resolveConfigVars(vars);
  return { lockOverride: config.lockOverride, updateWindow: updateWindowOf(config) };
}

/** One resolved config var as text, as a target would carry it (`''` for an unset optional one). */
export function configVarText<K extends keyof SupervisorConfig>(
  config: SupervisorConfig,
  key: K,
): string {
  const spec = CONFIG_VAR_SPECS[key] as VarSpec<SupervisorConfig[K]>;
  if (spec.format !== undefined) return spec.format(config[key]);
  // Vars without a format hold a boolean, a number or a string.
  const value: unknown = config[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return `${value}`;
  return JSON.stringify(value);
}
