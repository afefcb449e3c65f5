/**
 * Comments in src/ cite the protocol notes by anchor (`docs/protocol.md#update-locks`), never by the
 * section number of a document outside the repository. Every cited anchor must exist, so renaming a
 * heading in docs/protocol.md without following its citations fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { comments, parseSource, REPO_ROOT, sourceFiles } from '../../support/source-scan.js';

const CITATION = /docs\/protocol\.md#([A-Za-z0-9_-]*)/g;
/** `§12.2`, `reference 4.2`, `section 6`, `reference section 3`: a number standing for a place in a document. */
const BARE_SECTION = /§\s*\d|\b(?:reference|section)\s+(?:section\s+)?\d/i;

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces → `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(markdown: string): string[] {
  const withoutFences = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return [...withoutFences.matchAll(/^#{1,6} +(.+?) *#*$/gm)].map((m) => slug(m[1] ?? ''));
}

describe('protocol citations', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/protocol.md'), 'utf8');
  const anchors = anchorsOf(doc);
  const files = sourceFiles();
  const allComments = files.flatMap(comments);
  const citations = allComments.flatMap((c) =>
    [...c.text.matchAll(CITATION)].map((m) => ({ ...c, anchor: m[1] ?? '' })),
  );

  it('docs/protocol.md has unique anchors, and its own links lead to them', () => {
    const seen = new Set<string>();
    const duplicates = anchors.filter((a) => seen.has(a) || !seen.add(a));
    assert.deepEqual(duplicates, [], 'two headings with the same anchor');
    const links = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] ?? '');
    assert.deepEqual(
      links.filter((l) => !seen.has(l)),
      [],
      'links inside docs/protocol.md to anchors it does not have',
    );
  });

  it('finds the citations in src/ (the scan itself works)', () => {
    assert.ok(citations.length >= 50, `only ${citations.length} citations found in src/`);
    assert.ok(
      citations.some((c) => c.path === 'src/device/locks.ts' && c.anchor === 'update-locks'),
      'src/device/locks.ts should cite docs/protocol.md#update-locks',
    );
  });

  it('every docs/protocol.md#anchor cited in src/ exists', () => {
    const known = new Set(anchors);
    const missing = citations
      .filter((c) => !known.has(c.anchor))
      .map((c) => `${c.path}:${c.line} #${c.anchor}`);
    assert.deepEqual(missing, [], 'citations of anchors docs/protocol.md does not have');
  });

  it('no comment in src/ cites a bare section number', () => {
    const bare = allComments
      .filter((c) => BARE_SECTION.test(c.text))
      .map((c) => `${c.path}:${c.line} ${c.text.split('\n').find((l) => BARE_SECTION.test(l))}`);
    assert.deepEqual(bare, [], 'cite docs/protocol.md#<anchor> instead');
  });

  it('the scan tells citations, anchors and bare numbers apart', () => {
    assert.equal(slug('config.json'), 'configjson');
    assert.equal(slug('Update locks'), 'update-locks');
    assert.equal(slug('mDNS resolution'), 'mdns-resolution');
    assert.deepEqual(anchorsOf('# A b\n```\n# not a heading\n```\n## C-d\n'), ['a-b', 'c-d']);
    const file = parseSource(
      'src/made-up.ts',
      [
        '/** Locks (reference §6.10). */',
        'const a = 1; // see section 4',
        "const s = '§12.2 in a string is not a comment';",
        '// docs/protocol.md#update-locks and docs/protocol.md#no-such-anchor',
        '/* Reference 3.1 */',
        'export {};',
      ].join('\n'),
    );
    const found = comments(file);
    assert.deepEqual(
      found.filter((c) => BARE_SECTION.test(c.text)).map((c) => c.line),
      [1, 2, 5],
    );
    assert.deepEqual(
      found.flatMap((c) => [...c.text.matchAll(CITATION)].map((m) => m[1])),
      ['update-locks', 'no-such-anchor'],
    );
  });
});
