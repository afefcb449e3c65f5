/**
 * scripts/mime-types-lazy.cjs stands in for mime-types in the bundle (scripts/build.mjs): it must answer
 * every question exactly as the real mime-types does, from its small tables for the types bosun's API
 * sends and from the real module (loaded then) for anything else.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

type Answer = string | false;
interface MimeTypes {
  lookup(path: unknown): Answer;
  charset(type: unknown): Answer;
  contentType(str: unknown): Answer;
  extension(type: unknown): Answer;
  types: Record<string, string>;
  extensions: Record<string, string[]>;
}

const require = createRequire(import.meta.url);
const lazyPath = require.resolve('../../../scripts/mime-types-lazy.cjs');
const lazy = require(lazyPath) as MimeTypes;
const real = require('mime-types') as MimeTypes;

// What express, send, type-is and accepts pass while serving bosun's API and dashboard, their
// variants (case, dots, paths, parameters, spaces) and others the tables leave to the real module.
const EXTENSIONS = [
  'html',
  'htm',
  'HTML',
  '.html',
  'dir/page.html',
  'txt',
  'text',
  'json',
  'JSON',
  'bin',
  'js',
  'css',
  'x.css',
  'png',
  'svg',
  'mjs',
  'map',
  'nosuchextension',
  'noext/',
  '',
];
const TYPES = [
  'application/json',
  'Application/JSON',
  'application/json; charset=latin1',
  'application/json;foo=bar',
  ' application/json',
  'application/x-ndjson',
  'application/octet-stream',
  'text/plain',
  'text/plain; version=0.0.4; charset=utf-8',
  'text/html',
  'text/css',
  'text/javascript',
  'application/javascript',
  'text/x-unknown',
  'image/svg+xml',
  'application/problem+json',
  'nonsense',
];
const NOT_STRINGS: unknown[] = [undefined, null, 0, 1, {}, [], true];

describe('build: lazy mime-types (scripts/mime-types-lazy.cjs)', () => {
  it('lookup, charset, contentType and extension answer as mime-types does', () => {
    for (const input of [...EXTENSIONS, ...NOT_STRINGS])
      assert.equal(lazy.lookup(input), real.lookup(input), `lookup(${String(input)})`);
    for (const input of [...TYPES, ...NOT_STRINGS])
      assert.equal(lazy.charset(input), real.charset(input), `charset(${String(input)})`);
    for (const input of [...EXTENSIONS, ...TYPES, ...NOT_STRINGS])
      assert.equal(
        lazy.contentType(input),
        real.contentType(input),
        `contentType(${String(input)})`,
      );
    for (const input of [...TYPES, ...NOT_STRINGS])
      assert.equal(lazy.extension(input), real.extension(input), `extension(${String(input)})`);
    assert.equal(lazy.types, real.types);
    assert.equal(lazy.extensions, real.extensions);
  });

  it('answers the types bosun sends without loading mime-db, and loads it for any other', () => {
    // A fresh process: this one has the real module loaded already.
    const loadedAfter = (calls: string): string[] =>
      JSON.parse(
        execFileSync(process.execPath, [
          '-e',
          `const m = require(${JSON.stringify(lazyPath)}); ${calls};
           process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((k) => /node_modules\\/mime-(db|types)\\//.test(k))));`,
        ]).toString(),
      ) as string[];
    const known =
      "m.contentType('application/json'); m.contentType('html'); m.contentType('bin'); " +
      "m.lookup('text'); m.contentType('text/plain'); m.contentType('application/x-ndjson'); " +
      "m.contentType('text/css'); m.contentType('text/javascript'); " +
      "m.contentType('text/plain; version=0.0.4; charset=utf-8')";
    assert.deepEqual(loadedAfter(known), []);
    const loaded = loadedAfter(`${known}; m.lookup('png')`);
    assert.ok(
      loaded.some((k) => k.includes('mime-db')),
      `mime-db not loaded: ${loaded.join(', ')}`,
    );
  });
});
