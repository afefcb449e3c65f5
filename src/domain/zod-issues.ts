/** Turns zod issues into our `{path, reason}` form with reasons a person can act on. */
import type { z } from 'zod';
import type { IssueCollector } from './issues.js';

type ZodIssue = z.core.$ZodIssue;

function reasonOf(issue: ZodIssue): string {
  if (issue.code === 'invalid_key')
    return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
  if (issue.code === 'unrecognized_keys') return `unknown key(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_union' && issue.message === 'Invalid input') {
    // Without a custom message on the union, say what each alternative expected.
    return issue.errors.map((branch) => branch.map((i) => i.message).join(', ')).join(' or ');
  }
  return issue.message;
}

export function addZodIssues(collector: IssueCollector, error: z.ZodError): void {
  for (const issue of error.issues) {
    collector.issue(
      issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      reasonOf(issue),
    );
  }
}
