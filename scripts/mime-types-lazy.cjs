'use strict';
// Bundled in place of mime-types (scripts/build.mjs resolves every `require('mime-types')` here).
// mime-types loads mime-db (147 KB of source) and builds maps of its ~2,500 types at load: ~0.9 MiB
// of objects in the idle agent's heap, for express (res.type, res.set('Content-Type'), res.json,
// res.send, res.redirect's res.format), which only ever asks about the few types bosun's API sends.
// Those few are answered here, exactly as mime-types 3 answers them (test/unit/build/
// mime-types-lazy.spec.ts compares every entry and function with the real module); any other question
// loads the real mime-types from node_modules on first use and is answered by it.
const { extname } = require('node:path');

// Extension -> media type, as mime-types' `lookup` maps them.
const TYPES = {
  html: 'text/html',
  htm: 'text/html',
  txt: 'text/plain',
  text: 'text/plain',
  json: 'application/json',
  bin: 'application/octet-stream',
  js: 'text/javascript',
  css: 'text/css',
};

// Media type (lower case) -> its charset as mime-types' `charset` gives it (false: none).
const CHARSETS = {
  'application/json': 'UTF-8',
  'application/x-ndjson': false,
  'application/octet-stream': false,
  'text/plain': 'UTF-8',
  'text/html': 'UTF-8',
  'text/css': 'UTF-8',
  'text/javascript': 'UTF-8',
};

// mime-types' own patterns, so that inputs are cut the same way.
const EXTRACT_TYPE_REGEXP = /^\s*([^;\s]*)(?:;|\s|$)/;

let real;
/** The real mime-types, loaded on the first question the tables above do not answer. */
function full() {
  // external in the bundle (scripts/build.mjs): resolved from node_modules at run time, not bundled.
  if (real === undefined) real = require('mime-types');
  return real;
}

const has = (table, key) => Object.prototype.hasOwnProperty.call(table, key);

function lookup(path) {
  if (!path || typeof path !== 'string') return false;
  const extension = extname('x.' + path)
    .toLowerCase()
    .slice(1);
  if (!extension) return false;
  return has(TYPES, extension) ? TYPES[extension] : full().lookup(path);
}

function charset(type) {
  if (!type || typeof type !== 'string') return false;
  const match = EXTRACT_TYPE_REGEXP.exec(type);
  const key = match && match[1].toLowerCase();
  return key !== null && has(CHARSETS, key) ? CHARSETS[key] : full().charset(type);
}

// mime-types' contentType, asking the functions above.
function contentType(str) {
  if (!str || typeof str !== 'string') return false;
  let mime = str.indexOf('/') === -1 ? lookup(str) : str;
  if (!mime) return false;
  if (mime.indexOf('charset') === -1) {
    const found = charset(mime);
    if (found) mime += '; charset=' + found.toLowerCase();
  }
  return mime;
}

exports.charset = charset;
exports.contentType = contentType;
exports.lookup = lookup;
exports.extension = (type) => full().extension(type);
// The maps exist only in the real module: reading one loads it.
for (const name of ['charsets', 'extensions', 'types', '_extensionConflicts'])
  Object.defineProperty(exports, name, { enumerable: true, get: () => full()[name] });
