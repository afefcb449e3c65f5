/** The API's weak ETags (src/api/etag.ts): express's form, FNV-1a instead of SHA-1. */
import assert from 'node:assert/strict';
import { weakEtag } from '../../../src/api/etag.js';

describe('weakEtag', () => {
  it('is W/"<length hex>-<16 hex digits>", the same for the same body, another for another', () => {
    const body = JSON.stringify({ status: 'success', deviceName: 'local' });
    const tag = weakEtag(body);
    assert.match(tag, /^W\/"[0-9a-f]+-[0-9a-f]{16}"$/);
    assert.equal(tag.slice(3, tag.indexOf('-')), Buffer.byteLength(body).toString(16));
    assert.equal(weakEtag(body), tag);
    assert.equal(weakEtag(Buffer.from(body)), tag, 'a Buffer and its string agree');
    assert.notEqual(weakEtag(body.replace('local', 'locaL')), tag);
  });

  it('hashes the bytes the response sends, in the encoding express gives', () => {
    const text = 'grüße';
    assert.notEqual(weakEtag(text, 'utf8'), weakEtag(text, 'latin1'));
    assert.equal(weakEtag(text, 'latin1'), weakEtag(Buffer.from(text, 'latin1')));
  });
});
