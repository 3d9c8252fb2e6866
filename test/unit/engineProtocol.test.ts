// The packed form in which an analysis crosses between the processes gives back the same analysis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { analyzeCapture } from '../../src/analysis/attentionAnalysis';
import { WireAnalysis, analysisFromWire, wireAnalysis } from '../../src/engine/engineProtocol';
import { randomAttention, randomCapture } from '../../src/analysis/syntheticAttention';

test('an analysis sent packed, through the serializer the engine uses, comes back equal, with and without head distances', () => {
  const capture = randomCapture([randomAttention('wire 0', 3, 20), randomAttention('wire 1', 3, 20)]);
  for (const headDistance of [true, false]) {
    const analysis = analyzeCapture(capture, { headDistance, maxOffset: 7 });
    const wire = deserialize(serialize(wireAnalysis(analysis))) as WireAnalysis;
    assert.ok(wire.relative.profile.values instanceof Float64Array);
    assert.ok(wire.rollout!.stacks[0].rollout.values instanceof Float64Array && wire.rollout!.stacks[0].flow!.values instanceof Float64Array);
    assert.equal(wire.headDistance !== undefined, headDistance);
    assert.deepEqual(analysisFromWire(wire), analysis);
  }
  const none = { ...analyzeCapture(capture, { headDistance: false }), heads: [], relative: { offsets: [0], profile: [] } };
  assert.deepEqual(analysisFromWire(wireAnalysis(none)), none);
});
