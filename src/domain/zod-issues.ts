/** Turns zod issues into our `{path, reason}` form with reasons a person can act on. */
import type { z } from 'zod';
import type { IssueCollector } from './issues.js';

type ZodIssue = z.core.$ZodIssue;

/** A reason a person can act on (zod's own text for a bad record key is only "Invalid key in record"). */
export function reasonOf(issue: ZodIssue): string {
  if (issue.code === 'invalid_key')
    return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
  if (issue.code === 'unrecognized_keys') return `unknown key(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_union' && issue.message === 'Invalid input') {
    // Without a custom message on the union, say what each alternative expected.
    return issue.errors.map((branch) => branch.map((i) => i.message).join(', ')).join(' or ');
  }
  return issue.message;
}

type Segment = string | number;

const isWrongTypeHere = (issue: ZodIssue): boolean =>
  issue.code === 'invalid_type' && issue.path.length === 0;

/**
 * A union such as "a list or a map" fails as a whole; when the value had the right shape for one branch
 * (it failed inside it, not on its type) that branch's issues are the useful ones.
 */
function flatten(
  issue: ZodIssue,
  base: Segment[],
  out: Array<{ path: Segment[]; reason: string }>,
): void {
  const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (issue.code === 'invalid_union') {
    const inside = issue.errors.find(
      (branch) => branch.length > 0 && !branch.every(isWrongTypeHere),
    );
    if (inside !== undefined) {
      for (const nested of inside) flatten(nested, path, out);
      return;
    }
  }
  out.push({ path, reason: reasonOf(issue) });
}

export function addZodIssues(collector: IssueCollector, error: z.ZodError): void {
  const out: Array<{ path: Segment[]; reason: string }> = [];
  for (const issue of error.issues) flatten(issue, [], out);
  for (const { path, reason } of out) collector.issue(path, reason);
}
