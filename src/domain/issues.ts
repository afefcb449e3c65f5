/**
 * Validation problems, collected rather than thrown one at a time, so that a rejected target names every
 * problem at once. A path is the JSON path of the offending value, dot-separated
 * (`apps.<uuid>.releases.<commit>.services.<name>.environment.<key>`).
 */
import { BosunError } from '../shared/errors.js';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export interface ValidationIssue {
  path: string;
  reason: string;
}

export function formatPath(path: Path): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

interface Findings {
  issues: ValidationIssue[];
  warnings: string[];
}

/** Collects issues (which reject the target) and warnings (which do not) while parsing. */
export class IssueCollector {
  constructor(
    private readonly prefix: Path = [],
    private readonly findings: Findings = { issues: [], warnings: [] },
  ) {}

  get issues(): readonly ValidationIssue[] {
    return this.findings.issues;
  }

  get warnings(): readonly string[] {
    return this.findings.warnings;
  }

  /** A collector that writes into the same findings with `segments` prepended to every path. */
  at(...segments: PathSegment[]): IssueCollector {
    return new IssueCollector([...this.prefix, ...segments], this.findings);
  }

  issue(path: Path, reason: string): void {
    this.findings.issues.push({ path: formatPath([...this.prefix, ...path]), reason });
  }

  warn(path: Path, message: string): void {
    this.findings.warnings.push(`${formatPath([...this.prefix, ...path])}: ${message}`);
  }

  get ok(): boolean {
    return this.findings.issues.length === 0;
  }

  /** Throws VALIDATION_FAILED listing every issue, if there is any. */
  throwIfAny(what: string): void {
    if (this.findings.issues.length === 0) return;
    throw validationFailed(what, [...this.findings.issues]);
  }
}

export function validationFailed(what: string, issues: ValidationIssue[]): BosunError {
  const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.reason}`);
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
  return new BosunError('VALIDATION_FAILED', `Invalid ${what}: ${shown.join('; ')}${more}`, {
    details: { issues },
  });
}

/**
 * Reports every `__proto__` key in a JSON value. Schema parsing drops such keys silently (to protect
 * prototypes); reporting them keeps "bad input is rejected, never silently lost" true for them too.
 */
export function reportPrototypeKeys(
  value: unknown,
  issues: IssueCollector,
  path: PathSegment[] = [],
): void {
  if (typeof value !== 'object' || value === null) return;
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__') issues.issue([...path, key], '"__proto__" is a reserved name');
    else reportPrototypeKeys(child, issues, [...path, Array.isArray(value) ? Number(key) : key]);
  }
}
