/**
 * Every SQLite connection bosun opens names better-sqlite3's native addon (`nativeBinding`,
 * src/shared/sqlite-addon.ts). The bundle leaves out `bindings`, the package better-sqlite3 asks
 * otherwise (scripts/build.mjs), so a connection opened without it would fail in the built agent only;
 * this scan finds it in the source first. knex's connection (src/store/connection.ts) passes the same
 * option through its `connection.options`.
 */
import assert from 'node:assert/strict';
import ts from 'typescript';
import {
  parseSource,
  sourceFiles,
  type Located,
  type SourceFile,
} from '../../support/source-scan.js';

function databaseOpenings(file: SourceFile): (Located & { named: boolean })[] {
  const found: (Located & { named: boolean })[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'Database'
    ) {
      const options = node.arguments?.[1];
      const named =
        options !== undefined &&
        ts.isObjectLiteralExpression(options) &&
        options.properties.some(
          (p) => p.name !== undefined && p.name.getText() === 'nativeBinding',
        );
      const { line } = file.ast.getLineAndCharacterOfPosition(node.getStart());
      found.push({ path: file.path, line: line + 1, text: node.getText(), named });
    }
    ts.forEachChild(node, visit);
  };
  visit(file.ast);
  return found;
}

describe('SQLite connections name their native addon', () => {
  const openings = sourceFiles().flatMap(databaseOpenings);

  it('finds the connections src/ opens (the scan itself works)', () => {
    // the store, its backup (two), the global key reader and the log spool (two)
    assert.ok(openings.length >= 6, `only ${openings.length} \`new Database(\` found in src/`);
  });

  it('every one passes nativeBinding', () => {
    const bare = openings.filter((o) => !o.named).map((o) => `${o.path}:${o.line} ${o.text}`);
    assert.deepEqual(bare, [], 'connections opened without nativeBinding');
  });

  it('the scan refuses one without it', () => {
    const file = parseSource(
      'src/made-up.ts',
      'const a = new Database(p);\nconst b = new Database(p, { readonly: true });\nconst c = new Database(p, { nativeBinding: x });\n',
    );
    assert.deepEqual(
      databaseOpenings(file).map((o) => o.named),
      [false, false, true],
    );
  });
});
