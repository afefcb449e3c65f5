/**
 * Reads `src/` for the source-convention tests (log event names, protocol citations): the files,
 * their comments and the calls to the injected logger, found with the TypeScript parser so a call
 * split over lines or a comment inside a template literal is read as what it is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
export const SRC_ROOT = join(REPO_ROOT, 'src');

export interface SourceFile {
  /** Path relative to the repository root, e.g. `src/cloud/provision.ts`. */
  path: string;
  text: string;
  ast: ts.SourceFile;
}

/** A file parsed as the scans need it; tests also feed it made-up text to check the scans themselves. */
export function parseSource(path: string, text: string): SourceFile {
  return { path, text, ast: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true) };
}

export function sourceFiles(root = SRC_ROOT): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files.push(parseSource(relative(REPO_ROOT, full), readFileSync(full, 'utf8')));
      }
    }
  };
  walk(root);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

export interface Located {
  path: string;
  line: number;
  text: string;
}

/** Every comment of a file (line and block), each once, with the line it starts on. */
export function comments(file: SourceFile): Located[] {
  const found = new Map<number, Located>();
  const visit = (node: ts.Node): void => {
    const ranges = [
      ...(ts.getLeadingCommentRanges(file.text, node.getFullStart()) ?? []),
      ...(ts.getTrailingCommentRanges(file.text, node.getEnd()) ?? []),
    ];
    for (const range of ranges) {
      if (found.has(range.pos)) continue;
      const line = file.ast.getLineAndCharacterOfPosition(range.pos).line + 1;
      found.set(range.pos, { path: file.path, line, text: file.text.slice(range.pos, range.end) });
    }
    ts.forEachChild(node, visit);
  };
  visit(file.ast);
  // Comments after the last statement hang off the end-of-file token.
  for (const range of ts.getLeadingCommentRanges(
    file.text,
    file.ast.endOfFileToken.getFullStart(),
  ) ?? []) {
    if (found.has(range.pos)) continue;
    const line = file.ast.getLineAndCharacterOfPosition(range.pos).line + 1;
    found.set(range.pos, { path: file.path, line, text: file.text.slice(range.pos, range.end) });
  }
  return [...found.values()].sort((a, b) => a.line - b.line);
}

const LOG_METHODS = new Set(['error', 'warn', 'info', 'debug']);

/** `log`, `logger`, `this.log`, `deps.logger`, `log.child({...})`, …: what bosun names its Logger. */
function isLoggerExpression(node: ts.Expression): boolean {
  if (ts.isIdentifier(node)) return /^(log|logger)$/i.test(node.text);
  if (ts.isPropertyAccessExpression(node)) return /^(log|logger)$/i.test(node.name.text);
  if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
    return node.expression.name.text === 'child' && isLoggerExpression(node.expression.expression);
  }
  return false;
}

export interface LogCall extends Located {
  /**
   * The event names the call can log: its first argument when that is a string literal, or each
   * branch of a conditional of literals. Empty when the name is computed (which the style test
   * refuses: an event name should be greppable).
   */
  events: string[];
}

function literalEvents(node: ts.Expression | undefined): string[] | undefined {
  if (node === undefined) return undefined;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isParenthesizedExpression(node)) return literalEvents(node.expression);
  if (ts.isConditionalExpression(node)) {
    const whenTrue = literalEvents(node.whenTrue);
    const whenFalse = literalEvents(node.whenFalse);
    return whenTrue && whenFalse ? [...whenTrue, ...whenFalse] : undefined;
  }
  return undefined;
}

/** The logger a call goes to: `log.info(…)` or `log[level](…)`; undefined when it is not one. */
function loggerMethodCall(node: ts.CallExpression): boolean {
  const callee = node.expression;
  if (ts.isPropertyAccessExpression(callee)) {
    return LOG_METHODS.has(callee.name.text) && isLoggerExpression(callee.expression);
  }
  if (ts.isElementAccessExpression(callee)) return isLoggerExpression(callee.expression);
  return false;
}

/** Every `<logger>.error|warn|info|debug(event, …)` (or `<logger>[level](…)`) call of a file. */
export function logCalls(file: SourceFile): LogCall[] {
  const calls: LogCall[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && loggerMethodCall(node)) {
      const line = file.ast.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      calls.push({
        path: file.path,
        line,
        text: node.getText().split('\n')[0] ?? '',
        events: literalEvents(node.arguments[0]) ?? [],
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(file.ast);
  return calls;
}
