// The attention panel's messages from the webview are checked before use, every param of every
// request; replies pair with their requests by id.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PanelHandlers, isWebviewMessage, panelReply } from '../../src/protocol';

const head = { type: 'request', id: 1, method: 'head', params: { layer: 0, head: 3 } };
const tile = { type: 'request', id: 2, method: 'tile', params: { layer: 1, head: 0, q0: 0, q1: 300, k0: 256, k1: 512, maxCells: 256 } };
const headMap = { type: 'request', id: 3, method: 'headMap', params: {} };
const window = { type: 'request', id: 4, method: 'window', params: { q0: 0, q1: 512, k0: 0, k1: 512, maxCells: 64 } };
const tokenRow = { type: 'request', id: 5, method: 'tokenRow', params: { token: 7, side: 'key', text: 'target' } };
const buckets = { type: 'request', id: 6, method: 'buckets', params: { layer: 2, head: 1 } };

test('messages from the webview are checked before use', () => {
  for (const ok of [{ type: 'ready' }, { type: 'runAgain' }, head, { ...head, params: { ...head.params, words: true } }, tile, headMap, window, tokenRow, { ...tokenRow, params: { token: 0, side: 'query', text: 'source' } }, buckets, { type: 'export', fileName: 'overview.csv', content: 'a,b', base64: false }]) {
    assert.ok(isWebviewMessage(ok), JSON.stringify(ok));
  }
  for (const bad of [{ type: 'export', fileName: '../x.csv', content: '', base64: false }, { type: 'export', fileName: '.bashrc', content: '', base64: false }, { type: 'export', fileName: 'a/b', content: '', base64: false }, null, 'ready', { type: 'run', cmd: 'rm' }]) {
    assert.equal(isWebviewMessage(bad), false, JSON.stringify(bad));
  }
});

test('a malformed request of each method is refused', () => {
  const malformed: unknown[] = [
    // the envelope: the id, the method, the params
    ...[head, tile, headMap, window, tokenRow, buckets].flatMap((r) => [{ ...r, id: -1 }, { ...r, id: 1.5 }, { ...r, id: '1' }, { ...r, id: undefined }, { ...r, type: 'requestHead' }, { ...r, params: undefined }, { ...r, params: null }, { ...r, params: [] }, { ...r, params: 'x' }]),
    ...['toString', 'constructor', '__proto__', 'release', 'analyze', '', undefined, 3].map((method) => ({ ...head, method })),
    // head: every param
    ...[{ layer: -1 }, { layer: 0.5 }, { layer: '0' }, { layer: undefined }, { head: -3 }, { head: NaN }, { head: undefined }, { words: 'yes' }, { words: 1 }, { capture: 'another-panel' }].map((p) => ({ ...head, params: { ...head.params, ...p } })),
    // tile: every param, an empty window and too many cells
    ...['layer', 'head', 'q0', 'q1', 'k0', 'k1', 'maxCells'].flatMap((k) => [-1, 0.5, '1', undefined].map((v) => ({ ...tile, params: { ...tile.params, [k]: v } }))),
    ...[{ q0: 300 }, { q1: 0 }, { k0: 512 }, { k1: 100 }, { maxCells: 0 }, { maxCells: 2049 }, { capture: 'another-panel' }].map((p) => ({ ...tile, params: { ...tile.params, ...p } })),
    // headMap: no params at all
    { ...headMap, params: { capture: 'another-panel' } },
    // window: a thumbnail is at most 64 cells a side
    ...[{ maxCells: 65 }, { maxCells: 0 }, { q1: 0 }, { k0: -1 }, { layer: 0 }, { capture: 'another-panel' }].map((p) => ({ ...window, params: { ...window.params, ...p } })),
    // tokenRow: a row or a column of the source or the target
    ...[{ side: 'diagonal' }, { side: undefined }, { text: 'both' }, { token: -1 }, { token: 1.5 }, { layer: 0 }].map((p) => ({ ...tokenRow, params: { ...tokenRow.params, ...p } })),
    // buckets: one head, nothing more
    ...[{ layer: -1 }, { head: '1' }, { head: undefined }, { hashes: 8 }].map((p) => ({ ...buckets, params: { ...buckets.params, ...p } })),
  ];
  for (const bad of malformed) assert.equal(isWebviewMessage(bad), false, JSON.stringify(bad, (_, v) => (v === undefined ? 'undefined' : v)));
});

test('a reply carries its request\'s id and method: the result, the error thrown, or none for a request left unanswered', async () => {
  const handlers: PanelHandlers<'head' | 'tile' | 'headMap'> = {
    head: ({ layer, head }) => ({ matrix: { layer, head, queries: 1, keys: 1, probs: new Float32Array([1]) } }),
    tile: async () => {
      throw new Error('no head 0 in layer 1');
    },
    headMap: async () => undefined,
  };
  const reply = (r: object): ReturnType<typeof panelReply> => {
    assert.ok(isWebviewMessage(r) && r.type === 'request');
    return panelReply(handlers, r);
  };
  const answered = await reply(head);
  assert.ok(answered && 'result' in answered && answered.method === 'head');
  assert.deepEqual([answered.id, answered.result.matrix.head], [1, 3]);
  assert.deepEqual(await reply(tile), { type: 'reply', id: 2, method: 'tile', error: 'no head 0 in layer 1' });
  assert.equal(await reply(headMap), undefined);
  // a method this panel does not answer: an error reply, not silence
  assert.deepEqual(await reply(buckets), { type: 'reply', id: 6, method: 'buckets', error: "this panel does not answer 'buckets'" });
});
