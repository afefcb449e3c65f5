/**
 * The agent's own knobs (docs/configuration.md), from environment variables and config.json, as one
 * immutable value. Pure: the environment and cwd are passed in, nothing is read globally. A bad value
 * is a CONFIG_INVALID error naming the variable, never a silent default.
 */
import { isAbsolute, resolve } from 'node:path';
import { BosunError } from '../shared/errors.js';
import type { LogLevel } from '../shared/logger.js';
import type { ConfigJson } from './config-json-schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface AgentPaths {
  /** BOSUN_DATA_DIR; default `./.data` under the working directory. */
  readonly dataDir: string;
  /** BOSUN_CONFIG_PATH; default `<dataDir>/config.json`. */
  readonly configPath: string;
  /** BOSUN_DB_PATH; default `<dataDir>/bosun.sqlite`. */
  readonly dbPath: string;
}

export interface AgentSettings extends AgentPaths {
  readonly api: {
    /** BOSUN_API_HOST; default 0.0.0.0. */
    readonly host: string;
    /** BOSUN_API_PORT, else config.json listenPort, else 48484. 0 picks a free port (tests). */
    readonly port: number;
  };
  /** Unix socket of the engine: BOSUN_ENGINE_SOCKET, else DOCKER_HOST=unix://…, else /var/run/docker.sock. */
  readonly engineSocket: string;
  /** BOSUN_LOCAL_MODE; default true when config.json has no apiEndpoint (unmanaged). */
  readonly localMode: boolean;
  /** BOSUN_LOG_LEVEL; default info. */
  readonly logLevel: LogLevel;
  /** BOSUN_LOCK_ROOT: host directory of the update locks; absolute; default /tmp/balena-supervisor. */
  readonly lockRoot: string;
  /** BOSUN_SCOPE_LABELS (`k=v,k2`): labels everything this agent sees must carry; tests only. */
  readonly scopeLabels: readonly string[];
  /**
   * BOSUN_MDNS_INTERFACES: undefined (no advertising), `all` (every eligible interface, as []), or
   * the named interfaces.
   */
  readonly mdnsInterfaces: readonly string[] | undefined;
  /** BOSUN_CLOUD_POLL_JITTER_MS: random delay added to each target poll; default 60000 (balena's). */
  readonly cloudPollJitterMs: number;
  /**
   * BOSUN_ENGINE_REQUEST_TIMEOUT_MS: bound of one short engine request (create, start, inspect, …;
   * not log/event/pull streams). Past it the step fails with ENGINE_TIMEOUT and is retried with backoff.
   */
  readonly engineRequestTimeoutMs: number;
  /** BOSUN_MAX_LOG_READERS: open `/v2/local/logs` streams at once; more get 503. Default 32. */
  readonly maxLogReaders: number;
  /**
   * BOSUN_ENGINE_DATA_ROOT: where the engine's data root (`docker info` DockerRootDir) is visible to the
   * agent, for the disk preflight's free-space reading; set it when the agent runs in a container that
   * mounts the engine's disk elsewhere. Default undefined: the DockerRootDir path itself (agent on the host).
   */
  readonly engineDataRoot: string | undefined;
  /** The log spool's and log stream's BOSUN_LOG_* variables (defaults in src/logs). */
  readonly logs: LogEnvSettings;
}

export const DEFAULT_CLOUD_POLL_JITTER_MS = 60_000;
/** Two minutes: far above any healthy engine answer, even on a slow SD card, yet a hung step is seen. */
export const DEFAULT_ENGINE_REQUEST_TIMEOUT_MS = 120_000;

export const DEFAULT_MAX_LOG_READERS = 32;

export const DEFAULT_API_PORT = 48484;
export const DEFAULT_API_HOST = '0.0.0.0';
export const DEFAULT_ENGINE_SOCKET = '/var/run/docker.sock';
/** balenaOS's path: containers adopted from balena-supervisor keep their lock binds unchanged. */
export const DEFAULT_LOCK_ROOT = '/tmp/balena-supervisor';
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

function badEnv(name: string, value: string, expected: string): BosunError {
  return new BosunError(
    'CONFIG_INVALID',
    `environment variable ${name}='${value}' is invalid: expected ${expected}`,
    {
      details: { variable: name, value },
    },
  );
}

/** An empty variable counts as unset (`FOO= bosun` is the usual way to clear one). */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function readPath(env: Env, name: string, cwd: string): string | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (/^\s|\s$|\0/.test(value)) throw badEnv(name, value, 'a path without surrounding spaces');
  return resolve(cwd, value);
}

function readBool(env: Env, name: string): boolean | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'on', 'yes'].includes(v)) return true;
  if (['false', '0', 'off', 'no'].includes(v)) return false;
  throw badEnv(name, value, 'true or false (also 1/0, on/off, yes/no)');
}

function readPort(env: Env, name: string): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n > 65535) throw badEnv(name, value, 'a TCP port number 0–65535');
  return n;
}

function readMs(env: Env, name: string): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value.trim())) throw badEnv(name, value, 'a whole number of milliseconds');
  return Number(value.trim());
}

function readPositiveInt(env: Env, name: string, max: number): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw badEnv(name, value, `a whole number from 1 to ${max}`);
  return n;
}

/** Smallest spool bound: below it a few lines would fill it. */
export const MIN_LOG_SPOOL_BYTES = 64 * 1024;

function readBytes(env: Env, name: string, min: number): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw badEnv(name, value, `a whole number of bytes ≥ ${min}`);
  return n;
}

/** Up to `count` comma-separated positive integers (`lines,bytes,ageMs`). */
function readIntList(env: Env, name: string, count: number): readonly number[] {
  const value = read(env, name);
  if (value === undefined) return [];
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length > count || parts.some((p) => !/^\d{1,15}$/.test(p) || Number(p) < 1))
    throw badEnv(name, value, `up to ${count} comma-separated positive integers`);
  return Object.freeze(parts.map(Number));
}

/** The log spool and stream variables, validated; unset values are left to src/logs (they depend on persistent logging). */
export interface LogEnvSettings {
  /** BOSUN_LOG_SPOOL_DIR (resolved against the working directory). */
  readonly spoolDir: string | undefined;
  /** BOSUN_LOG_SPOOL_MAX_BYTES / BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES. */
  readonly spoolMaxBytes: number | undefined;
  readonly spoolMaxServiceBytes: number | undefined;
  /** BOSUN_LOG_STREAM_BATCH `lines,bytes,ageMs` (each optional from the right). */
  readonly streamBatch: readonly number[];
  /** BOSUN_LOG_STREAM_BACKOFF_MS `base,max`. */
  readonly streamBackoffMs: readonly number[];
}

function readLogEnv(env: Env, cwd: string): LogEnvSettings {
  return Object.freeze({
    spoolDir: readPath(env, 'BOSUN_LOG_SPOOL_DIR', cwd),
    spoolMaxBytes: readBytes(env, 'BOSUN_LOG_SPOOL_MAX_BYTES', MIN_LOG_SPOOL_BYTES),
    spoolMaxServiceBytes: readBytes(env, 'BOSUN_LOG_SPOOL_MAX_SERVICE_BYTES', MIN_LOG_SPOOL_BYTES),
    streamBatch: readIntList(env, 'BOSUN_LOG_STREAM_BATCH', 3),
    streamBackoffMs: readIntList(env, 'BOSUN_LOG_STREAM_BACKOFF_MS', 2),
  });
}

export function resolveLogLevel(env: Env): LogLevel {
  const value = read(env, 'BOSUN_LOG_LEVEL');
  if (value === undefined) return 'info';
  const level = LOG_LEVELS.find((l) => l === value.trim().toLowerCase());
  if (!level) throw badEnv('BOSUN_LOG_LEVEL', value, LOG_LEVELS.join(', '));
  return level;
}

export function resolvePaths(env: Env, cwd: string): AgentPaths {
  const dataDir = readPath(env, 'BOSUN_DATA_DIR', cwd) ?? resolve(cwd, '.data');
  return Object.freeze({
    dataDir,
    configPath: readPath(env, 'BOSUN_CONFIG_PATH', cwd) ?? resolve(dataDir, 'config.json'),
    dbPath: readPath(env, 'BOSUN_DB_PATH', cwd) ?? resolve(dataDir, 'bosun.sqlite'),
  });
}

function resolveEngineSocket(env: Env, cwd: string): string {
  const explicit = readPath(env, 'BOSUN_ENGINE_SOCKET', cwd);
  if (explicit !== undefined) return explicit;
  const dockerHost = read(env, 'DOCKER_HOST');
  if (dockerHost === undefined) return DEFAULT_ENGINE_SOCKET;
  const socket = dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : undefined;
  if (!socket || !isAbsolute(socket)) {
    throw badEnv(
      'DOCKER_HOST',
      dockerHost,
      'unix:///absolute/path (bosun talks to the engine over a unix socket; or set BOSUN_ENGINE_SOCKET)',
    );
  }
  return socket;
}

function resolveApiHost(env: Env): string {
  const host = read(env, 'BOSUN_API_HOST');
  if (host === undefined) return DEFAULT_API_HOST;
  if (/\s/.test(host)) throw badEnv('BOSUN_API_HOST', host, 'an IP address or host name');
  return host;
}

/**
 * The lock root becomes a bind-mount source of every service container: an empty or relative path
 * would bind something relative to the engine's working directory, so only an absolute, normalised
 * path is accepted (an empty variable means the default, like every other one).
 */
function resolveLockRoot(env: Env): string {
  const value = read(env, 'BOSUN_LOCK_ROOT');
  if (value === undefined) return DEFAULT_LOCK_ROOT;
  if (!isAbsolute(value) || /\0|,|:/.test(value) || resolve(value) !== value.replace(/\/+$/, ''))
    throw badEnv(
      'BOSUN_LOCK_ROOT',
      value,
      'an absolute, normalised directory path without commas or colons (it is bind-mounted into containers)',
    );
  return resolve(value);
}

function resolveScopeLabels(env: Env): readonly string[] {
  const value = read(env, 'BOSUN_SCOPE_LABELS');
  if (value === undefined) return Object.freeze([]);
  const labels = value.split(',').map((l) => l.trim());
  if (labels.some((l) => l === '' || l.startsWith('=') || /\s/.test(l)))
    throw badEnv('BOSUN_SCOPE_LABELS', value, 'comma-separated key or key=value labels');
  return Object.freeze(labels);
}

function resolveMdnsInterfaces(env: Env): readonly string[] | undefined {
  const value = read(env, 'BOSUN_MDNS_INTERFACES');
  if (value === undefined) return undefined;
  if (value.trim() === 'all') return Object.freeze([]);
  const names = value.split(',').map((n) => n.trim());
  if (names.some((n) => !/^[A-Za-z0-9_.:@-]{1,15}$/.test(n)))
    throw badEnv('BOSUN_MDNS_INTERFACES', value, '`all` or comma-separated interface names');
  return Object.freeze(names);
}

/** What the environment alone decides; read (and validated) before any file is touched. */
export interface EnvSettings extends AgentPaths {
  readonly apiHost: string;
  readonly apiPort: number | undefined;
  readonly engineSocket: string;
  readonly localMode: boolean | undefined;
  readonly logLevel: LogLevel;
  readonly lockRoot: string;
  readonly scopeLabels: readonly string[];
  readonly mdnsInterfaces: readonly string[] | undefined;
  readonly cloudPollJitterMs: number | undefined;
  readonly engineRequestTimeoutMs: number;
  readonly maxLogReaders: number | undefined;
  readonly engineDataRoot: string | undefined;
  readonly logs: LogEnvSettings;
}

export function readEnvSettings(env: Env, cwd: string): EnvSettings {
  return Object.freeze({
    ...resolvePaths(env, cwd),
    apiHost: resolveApiHost(env),
    apiPort: readPort(env, 'BOSUN_API_PORT'),
    engineSocket: resolveEngineSocket(env, cwd),
    localMode: readBool(env, 'BOSUN_LOCAL_MODE'),
    logLevel: resolveLogLevel(env),
    lockRoot: resolveLockRoot(env),
    scopeLabels: resolveScopeLabels(env),
    mdnsInterfaces: resolveMdnsInterfaces(env),
    cloudPollJitterMs: readMs(env, 'BOSUN_CLOUD_POLL_JITTER_MS'),
    engineRequestTimeoutMs:
      readPositiveInt(env, 'BOSUN_ENGINE_REQUEST_TIMEOUT_MS', 3_600_000) ??
      DEFAULT_ENGINE_REQUEST_TIMEOUT_MS,
    maxLogReaders: readPositiveInt(env, 'BOSUN_MAX_LOG_READERS', 10_000),
    engineDataRoot: readPath(env, 'BOSUN_ENGINE_DATA_ROOT', cwd),
    logs: readLogEnv(env, cwd),
  });
}

/** Env wins over config.json for the port, so a developer can move the API without editing the device's file. */
export function resolveAgentSettings(fromEnv: EnvSettings, configJson: ConfigJson): AgentSettings {
  return Object.freeze({
    dataDir: fromEnv.dataDir,
    configPath: fromEnv.configPath,
    dbPath: fromEnv.dbPath,
    api: Object.freeze({
      host: fromEnv.apiHost,
      port: fromEnv.apiPort ?? configJson.listenPort ?? DEFAULT_API_PORT,
    }),
    engineSocket: fromEnv.engineSocket,
    // Unmanaged (no apiEndpoint) means nobody but a local developer can give this device a target.
    localMode: fromEnv.localMode ?? !configJson.apiEndpoint,
    logLevel: fromEnv.logLevel,
    lockRoot: fromEnv.lockRoot,
    scopeLabels: fromEnv.scopeLabels,
    mdnsInterfaces: fromEnv.mdnsInterfaces,
    cloudPollJitterMs: fromEnv.cloudPollJitterMs ?? DEFAULT_CLOUD_POLL_JITTER_MS,
    engineRequestTimeoutMs: fromEnv.engineRequestTimeoutMs,
    maxLogReaders: fromEnv.maxLogReaders ?? DEFAULT_MAX_LOG_READERS,
    engineDataRoot: fromEnv.engineDataRoot,
    logs: fromEnv.logs,
  });
}
