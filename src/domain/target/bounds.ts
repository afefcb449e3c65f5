/**
 * Size bounds of a target document, checked on the raw value before any schema runs (issue 8: a 9 MB
 * target with 40,000 config vars was accepted and stored; a deeply nested value under an unknown key
 * overflowed the stack of the recursive checks that follow). Every bound is generous for a real device
 * (balena's own fleets stay far below) yet finite, and breaking one is a VALIDATION_FAILED naming the
 * path, the count or size found and the bound. docs/api.md lists them.
 *
 * The walk is iterative (an explicit stack), so no input depth can overflow it.
 */
import type { IssueCollector, PathSegment } from '../issues.js';

export const TARGET_LIMITS = {
  /** Whole document, as JSON text. */
  maxDocumentBytes: 4 * 1024 * 1024,
  /** Object/array nesting anywhere in the document (a compose service needs about 12). */
  maxDepth: 32,
  maxApps: 100,
  maxConfigVars: 1_000,
  /** Services of one release, and over all apps of the device. */
  maxServicesPerRelease: 250,
  maxServicesPerDevice: 500,
  maxEnvVarsPerService: 1_000,
  maxLabelsPerService: 1_000,
  /** One config var, env var or label value, in characters. */
  maxValueChars: 64 * 1024,
} as const;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reports the first place nested deeper than `maxDepth`; returns false if there is one. */
export function checkDepth(
  value: unknown,
  issues: IssueCollector,
  maxDepth: number = TARGET_LIMITS.maxDepth,
): boolean {
  const stack: Array<{ value: unknown; path: PathSegment[] }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (path.length >= maxDepth) {
      issues.issue(
        path.slice(0, 12),
        `nested deeper than ${maxDepth} levels (${path.length > 12 ? 'path shortened; ' : ''}no target needs that)`,
      );
      return false;
    }
    for (const [key, child] of Object.entries(current))
      if (typeof child === 'object' && child !== null)
        stack.push({ value: child, path: [...path, Array.isArray(current) ? Number(key) : key] });
  }
  return true;
}

function checkCount(
  record: unknown,
  max: number,
  what: string,
  path: PathSegment[],
  issues: IssueCollector,
): void {
  if (!isObject(record)) return;
  const count = Object.keys(record).length;
  if (count > max) issues.issue(path, `${count} ${what}: at most ${max} are allowed`);
}

function checkValues(
  record: unknown,
  what: string,
  path: PathSegment[],
  issues: IssueCollector,
): void {
  if (!isObject(record)) return;
  for (const [key, value] of Object.entries(record))
    if (typeof value === 'string' && value.length > TARGET_LIMITS.maxValueChars)
      issues.issue(
        [...path, key],
        `${what} value is ${value.length} characters: at most ${TARGET_LIMITS.maxValueChars} are allowed`,
      );
}

/** Counts and sizes of a v3 device document (`{name, config, apps}`); the shape is checked later. */
export function checkDeviceBounds(raw: unknown, issues: IssueCollector): void {
  if (!checkDepth(raw, issues) || !isObject(raw)) return;
  const bytes = Buffer.byteLength(JSON.stringify(raw));
  if (bytes > TARGET_LIMITS.maxDocumentBytes)
    issues.issue(
      [],
      `the target is ${bytes} bytes as JSON: at most ${TARGET_LIMITS.maxDocumentBytes} are allowed`,
    );
  checkCount(raw['config'], TARGET_LIMITS.maxConfigVars, 'config variables', ['config'], issues);
  checkValues(raw['config'], 'config variable', ['config'], issues);
  const apps = raw['apps'];
  checkCount(apps, TARGET_LIMITS.maxApps, 'apps', ['apps'], issues);
  if (!isObject(apps)) return;
  let total = 0;
  for (const [uuid, app] of Object.entries(apps)) {
    if (!isObject(app) || !isObject(app['releases'])) continue;
    for (const [commit, release] of Object.entries(app['releases'])) {
      if (!isObject(release)) continue;
      const path = ['apps', uuid, 'releases', commit, 'services'];
      const services = release['services'];
      checkCount(services, TARGET_LIMITS.maxServicesPerRelease, 'services', path, issues);
      if (!isObject(services)) continue;
      total += Object.keys(services).length;
      for (const [name, service] of Object.entries(services)) {
        if (!isObject(service)) continue;
        const at = [...path, name];
        const env = service['environment'];
        const labels = service['labels'];
        checkCount(
          env,
          TARGET_LIMITS.maxEnvVarsPerService,
          'environment variables',
          [...at, 'environment'],
          issues,
        );
        checkValues(env, 'environment variable', [...at, 'environment'], issues);
        checkCount(labels, TARGET_LIMITS.maxLabelsPerService, 'labels', [...at, 'labels'], issues);
        checkValues(labels, 'label', [...at, 'labels'], issues);
      }
    }
  }
  if (total > TARGET_LIMITS.maxServicesPerDevice)
    issues.issue(
      ['apps'],
      `${total} services over all apps: at most ${TARGET_LIMITS.maxServicesPerDevice} are allowed`,
    );
}
