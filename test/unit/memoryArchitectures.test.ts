// Issue 18's table: the estimates of today's architectures, each expected value worked out here
// from the formula, with configs written from the models' public config.json values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { binaryBytes } from '../../src/analysis/units';
import { AttentionShape, DenseEstimate, Mode, Dtype, denseEstimate, memoryEstimate } from '../../src/memory/attentionMemory';
import { ConfigLanguage, configSites } from '../../src/memory/configSites';
import { memoryLensTitle, memoryMarkdown, memoryRows, siteEstimate } from '../../src/memory/memoryReport';
import { attentionShape, dimsFromValues } from '../../src/memory/modelDims';
import { REPO } from '../helpers/paths';


function estimate(config: Record<string, unknown>, settings: { seq?: number; dtype?: Dtype; mode?: Mode; batch?: number; fusedKernel?: boolean } = {}): { shape: AttentionShape; dense: DenseEstimate } {
  const shaped = attentionShape(dimsFromValues(new Map(Object.entries(config))), { mode: 'inference', ...settings });
  assert.ok('shape' in shaped, JSON.stringify(shaped));
  return { shape: shaped.shape, dense: denseEstimate(shaped.shape) };
}

const mistral7b = {
  architectures: ['MistralForCausalLM'], model_type: 'mistral', hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32,
  num_hidden_layers: 32, num_key_value_heads: 8, max_position_embeddings: 32768, sliding_window: 4096, torch_dtype: 'bfloat16', vocab_size: 32000, tie_word_embeddings: false,
};

test('Mistral-7B-v0.1: a rolling 4096 window holds 512 MiB at n = 32768 in bf16 (was 4 GiB)', () => {
  const e = estimate(mistral7b, { seq: 32768 });
  assert.equal(e.shape.dtype, 'bf16', 'torch_dtype');
  // 2 (K and V) x 32 layers x 8 KV heads x 128 dims x 4096 positions x 2 bytes
  assert.equal(e.dense.kvCacheBytes, 2 * 32 * 8 * 128 * 4096 * 2);
  assert.equal(binaryBytes(e.dense.kvCacheBytes), '512 MiB');
  assert.equal(estimate({ ...mistral7b, use_sliding_window: false }, { seq: 32768 }).dense.kvCacheBytes, 2 * 32 * 8 * 128 * 32768 * 2);
  // the window is the baseline: 32 heads x 32768 queries x 4096 keys a layer, not n^2
  assert.equal(e.dense.attentionFloatsPerLayer, 32 * 32768 * 4096);
  assert.equal(memoryRows(memoryEstimate(e.shape))[0].label, 'This model (window 4096)');
});

test('gemma-2-2b: 13 local layers of 4096 and 13 global ones hold about 1.22 GiB at n = 8192 (was 1.625 GiB)', () => {
  const gemma2 = {
    architectures: ['Gemma2ForCausalLM'], model_type: 'gemma2', head_dim: 256, hidden_size: 2304, intermediate_size: 9216, num_attention_heads: 8,
    num_hidden_layers: 26, num_key_value_heads: 4, max_position_embeddings: 8192, sliding_window: 4096, torch_dtype: 'float32', vocab_size: 256000,
  };
  const e = estimate(gemma2, { seq: 8192 });
  assert.equal(e.shape.dtype, 'fp32', 'gemma-2-2b is published in float32');
  assert.deepEqual(e.shape.windowedLayers, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
  const perPosition = 2 * 4 * 256 * 4; // K and V, 4 KV heads of 256, fp32
  assert.equal(e.dense.kvCacheBytes, 13 * perPosition * 8192 + 13 * perPosition * 4096);
  assert.equal(binaryBytes(e.dense.kvCacheBytes), '1.22 GiB');
  assert.equal(binaryBytes(26 * perPosition * 8192), '1.63 GiB', "today's figure, every layer global");
  // layer_types, as newer configs write it, says the same
  const types = Array.from({ length: 26 }, (_, i) => (i % 2 === 0 ? 'sliding_attention' : 'full_attention'));
  assert.equal(estimate({ ...gemma2, model_type: 'llama', layer_types: types }, { seq: 8192 }).dense.kvCacheBytes, e.dense.kvCacheBytes);
});

test('gemma-3-1b in a text_config: 5 local (512) : 1 global holds about 139 MiB at n = 32768 in bf16 (was 832 MiB)', () => {
  const config = JSON.stringify({
    architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3', torch_dtype: 'bfloat16',
    text_config: { model_type: 'gemma3_text', head_dim: 256, hidden_size: 1152, intermediate_size: 6912, max_position_embeddings: 32768, num_attention_heads: 4, num_hidden_layers: 26, num_key_value_heads: 1, sliding_window: 512, sliding_window_pattern: 6, vocab_size: 262144 },
  });
  const scan = configSites(config, 'json');
  assert.equal(scan.sites.length, 1);
  const site = scan.sites[0];
  assert.equal(site.label, 'text_config');
  const e = siteEstimate(site, { mode: 'inference' });
  assert.ok('shape' in e);
  assert.equal(e.shape.dtype, 'bf16', 'torch_dtype of the mapping around text_config');
  // layers 5, 11, 17, 23 are global (every 6th), the other 22 local
  const perPosition = 2 * 1 * 256 * 2;
  const expected = 4 * perPosition * 32768 + 22 * perPosition * 512;
  const dense = denseEstimate(e.shape);
  assert.equal(dense.kvCacheBytes, expected);
  assert.equal(binaryBytes(expected), '139 MiB');
  assert.equal(binaryBytes(26 * perPosition * 32768), '832 MiB', "today's figure");
  assert.match(e.title, /KV cache 139 MiB \(window 512, 22 of 26 layers\)/);
});

test("Phi-3-mini-4k: its 2047 window halves the cache at 4k", () => {
  const phi3 = { model_type: 'phi3', hidden_size: 3072, num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 32, max_position_embeddings: 4096, sliding_window: 2047, torch_dtype: 'bfloat16' };
  const e = estimate(phi3, { seq: 4096 });
  assert.equal(e.dense.kvCacheBytes, 2 * 32 * 32 * 96 * 2047 * 2);
  assert.equal(e.dense.kvCacheBytes / (2 * 32 * 32 * 96 * 4096 * 2), 2047 / 4096);
});

test('DeepSeek-V2-Lite (MLA): the latent 512 + rope 64 holds about 121.5 MiB at n = 4096 in bf16 (was 864 MiB); q/k head dim 192', () => {
  const deepseek = {
    model_type: 'deepseek_v2', hidden_size: 2048, num_attention_heads: 16, num_key_value_heads: 16, num_hidden_layers: 27, kv_lora_rank: 512, q_lora_rank: null,
    qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128, max_position_embeddings: 163840, torch_dtype: 'bfloat16',
  };
  const e = estimate(deepseek, { seq: 4096 });
  assert.equal(e.shape.headDim, 128 + 64);
  // 27 layers x (512 latent + 64 rope key) x 4096 positions x 2 bytes: one latent a token, not K and V per head
  assert.equal(e.dense.kvCacheBytes, 27 * (512 + 64) * 4096 * 2);
  assert.equal(binaryBytes(e.dense.kvCacheBytes), '121.5 MiB');
  assert.equal(binaryBytes(2 * 27 * 16 * (2048 / 16) * 4096 * 2), '864 MiB', "today's figure");
  // scores over 192-dimensional queries and keys, values of 128
  assert.equal(e.dense.queriesFloatsPerLayer, 16 * 192 * 4096);
  assert.equal(e.dense.flopsPerLayer, 2 * 16 * 4096 * 4096 * (192 + 128));
});

test('t5-small: encoder self-attention, decoder self-attention and cross-attention, each its own row, and the cross KV cache', () => {
  const t5 = { model_type: 't5', is_encoder_decoder: true, d_model: 512, d_kv: 64, num_heads: 8, num_layers: 6, num_decoder_layers: 6, d_ff: 2048, vocab_size: 32128 };
  const e = estimate(t5, { seq: 512 });
  assert.deepEqual(e.dense.parts.map((p) => [p.part, p.layers, p.queries, p.keys]), [['encoderSelf', 6, 512, 512], ['decoderSelf', 6, 512, 512], ['cross', 6, 512, 512]]);
  assert.equal(e.dense.parts[0].kvCacheBytes, 0, 'the encoder keeps none');
  const perPosition = 2 * 6 * 8 * 64 * 4; // K and V, 6 decoder layers, 8 heads of 64, fp32
  assert.equal(e.dense.parts[1].kvCacheBytes, perPosition * 512);
  assert.equal(e.dense.parts[2].kvCacheBytes, perPosition * 512, 'the cross cache holds the encoder output projected');
  assert.equal(e.dense.attentionFloatsAllLayers, 3 * 6 * 8 * 512 * 512);
  const md = memoryMarkdown(memoryEstimate(e.shape));
  for (const row of ['encoder self', 'decoder self', 'cross']) assert.match(md, new RegExp(`\\| ${row} \\| 6 \\|`));
});

test('whisper-tiny: both stacks of encoder_/decoder_attention_heads, cross-attention, a 448-token decoder', () => {
  const whisper = {
    model_type: 'whisper', is_encoder_decoder: true, d_model: 384, encoder_layers: 4, encoder_attention_heads: 6, decoder_layers: 4, decoder_attention_heads: 6,
    max_source_positions: 1500, max_target_positions: 448, torch_dtype: 'float32',
  };
  const e = estimate(whisper);
  assert.deepEqual(e.dense.parts.map((p) => [p.part, p.layers, p.queries, p.keys]), [['encoderSelf', 4, 1500, 1500], ['decoderSelf', 4, 448, 448], ['cross', 4, 448, 1500]]);
  assert.equal(e.dense.kvCacheBytes, 2 * 4 * 6 * 64 * 448 * 4 + 2 * 4 * 6 * 64 * 1500 * 4);
  assert.equal(e.dense.attentionFloatsPerLayer, 6 * 1500 * 1500, "the encoder's layers are the largest");
  // the methods replace the encoder's self-attention: that is their baseline, not the whole model
  const [baseline] = memoryRows(memoryEstimate(e.shape));
  assert.deepEqual([baseline.label, baseline.bytesAllLayers], ['Dense (encoder self)', 4 * 6 * 1500 * 1500 * 4]);
});

test('bert-base and distilbert: an encoder has no KV cache', () => {
  for (const config of [
    { model_type: 'bert', hidden_size: 768, num_attention_heads: 12, num_hidden_layers: 12, max_position_embeddings: 512 },
    { model_type: 'distilbert', dim: 768, n_heads: 12, n_layers: 6, max_position_embeddings: 512 },
  ]) {
    const e = estimate(config);
    assert.equal(e.dense.kvCacheBytes, 0, config.model_type);
    assert.match(memoryLensTitle(memoryEstimate(e.shape)), /no KV cache \(encoder\)/);
  }
});

test("Llama-3.1-8B: the config's bfloat16, n as the user sets it", () => {
  const llama = {
    model_type: 'llama', hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8,
    max_position_embeddings: 131072, torch_dtype: 'bfloat16', vocab_size: 128256, tie_word_embeddings: false,
  };
  const e = estimate(llama, { seq: 8192 });
  assert.equal(e.shape.dtype, 'bf16');
  assert.equal(e.shape.seq, 8192);
  assert.equal(binaryBytes(e.dense.kvCacheBytes), '1 GiB');
  assert.equal(estimate(llama, { seq: 8192, dtype: 'fp16' }).shape.dtype, 'fp16', 'a dtype set wins');
  // weights: embeddings and head 2 x 128256 x 4096; a layer's attention 2 x 4096^2 + 2 x 4096 x 1024 and MLP 3 x 4096 x 14336
  const parameters = 2 * 128256 * 4096 + 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336);
  assert.equal(e.shape.parameters, parameters);
  assert.equal(e.dense.weightBytes, parameters * 2);
  // the title says what decides whether it runs: "inference at n=8192, bf16: KV cache 1 GiB, attention scores 4 GiB/layer (fused kernel: none)"
  assert.equal(memoryLensTitle(memoryEstimate(e.shape)), 'inference at n=8192, bf16: KV cache 1 GiB, attention scores 4 GiB/layer (fused kernel: none)');
  // 4-bit weights from a quantisation config
  assert.equal(estimate({ ...llama, quantization_config: { quant_method: 'gptq', bits: 4 } }, { seq: 8192 }).dense.weightBytes, parameters / 2);
});

test('modes: inference peak, decode, training with every layer kept, and the fused-kernel switch', () => {
  const llama = { model_type: 'llama', hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8, torch_dtype: 'bfloat16', vocab_size: 128256, tie_word_embeddings: false };
  const n = 8192;
  const inference = estimate(llama, { seq: n });
  const d = inference.dense;
  const kv = 2 * 32 * 8 * 128 * n * 2;
  const scores = 32 * n * n * 2;
  const layer = n * (2 * 4096 + (32 + 2 * 8) * 128 + 2 * 14336) * 2;
  assert.deepEqual([d.kvCacheBytes, d.transientScoresBytes, d.layerActivationBytes], [kv, scores, layer]);
  assert.equal(d.peakBytes, d.weightBytes! + kv + scores + layer);
  const fused = estimate(llama, { seq: n, fusedKernel: true }).dense;
  assert.equal(fused.transientScoresBytes, 0);
  assert.equal(fused.peakBytes, d.weightBytes! + kv + layer);
  const decode = estimate(llama, { seq: n, mode: 'decode' }).dense;
  assert.equal(decode.kvCacheBytes, kv, 'decoding holds the same cache');
  assert.equal(decode.transientScoresBytes, 32 * 1 * n * 2, 'one query over n keys');
  const training = estimate(llama, { seq: n, mode: 'training' });
  // Korthikanti: 34 s b H + 5 a s^2 b a layer (16-bit), every layer; Adam's 16 bytes a parameter
  assert.equal(training.dense.trainingActivationBytes, 32 * (34 * n * 4096 + 5 * 32 * n * n));
  assert.equal(training.dense.peakBytes, training.shape.parameters! * 16 + training.dense.trainingActivationBytes);
  assert.equal(estimate(llama, { seq: n, mode: 'training', fusedKernel: true }).dense.trainingActivationBytes, 32 * 34 * n * 4096, 'probabilities recomputed');
  assert.match(memoryLensTitle(memoryEstimate(training.shape)), /^training at n=8192, bf16: activations /);
});

test('public configs in test/fixtures/configs read as their models are built', () => {
  const fixture = (name: string, language: ConfigLanguage = 'json') => configSites(readFileSync(join(REPO, 'test', 'fixtures', 'configs', name), 'utf8'), language);
  const first = (name: string) => {
    const scan = fixture(name);
    assert.deepEqual(scan.problems, [], name);
    return scan.sites[0];
  };
  const bf16 = ['Mistral-7B-v0.1.json', 'Llama-3.1-8B.json', 'Qwen2.5-7B-Instruct.json', 'Phi-3-mini-4k-instruct.json', 'DeepSeek-V2-Lite.json', 'falcon-7b.json'];
  for (const name of bf16) assert.equal(first(name).dims.dtype, 'bf16', name);
  assert.equal(first('Qwen2.5-7B-Instruct.json').dims.slidingWindow, undefined, 'use_sliding_window: false');
  assert.equal(first('falcon-7b.json').dims.kvHeads, 1, 'multi_query');
  assert.deepEqual(first('DeepSeek-V2-Lite.json').dims.latent, { kvLoraRank: 512, ropeHeadDim: 64, valueHeadDim: 128 });
  assert.deepEqual(first('whisper-tiny.json').dims.decoder, { layers: 4, heads: 6, maxPositions: 448 });
  assert.deepEqual(first('t5-small.json').dims.decoder, { layers: 6, heads: 8, headDim: 64, maxPositions: 512 });
  const gemma3 = fixture('gemma-3-4b-it.json').sites;
  assert.deepEqual(gemma3.map((s) => [s.label, s.dims.causal, s.dims.dtype]), [['text_config', true, 'bf16'], ['vision_config', false, 'bf16']]);
  assert.equal(gemma3[0].dims.windowedLayers?.length, 34 - 5, 'every sixth of 34 layers global');
  // onnxruntime-genai: the decoder's head_size, the model's context_length, GroupQueryAttention's fp32 scores on the CPU
  const genai = first('genai_config.json');
  assert.equal(genai.label, 'decoder');
  assert.deepEqual([genai.dims.headDim, genai.dims.maxPositions, genai.dims.causal, genai.dims.fusedKernel, genai.dims.float32Scores], [96, 4096, true, undefined, true]);
  assert.equal(first('bert-base-uncased.json').dims.vocab, 30522, 'BertForMaskedLM ends with logits');
  // DeepSeek-V2-Lite's 15.7 B parameters: 64 routed and 2 shared experts of 1408 after one dense layer
  assert.ok(Math.abs(first('DeepSeek-V2-Lite.json').dims.parameters! / 15.7e9 - 1) < 0.01);
  assert.ok(Math.abs(first('Mistral-7B-v0.1.json').dims.parameters! / 7.24e9 - 1) < 0.01);
});

test("a file's own training keys set n, batch and dtype; an n above the positions is flagged", () => {
  const scan = configSites(readFileSync(join(REPO, 'test', 'fixtures', 'configs', 'finetune.yaml'), 'utf8'), 'yaml');
  assert.deepEqual(scan.training, { seq: { value: 4096, key: 'training.seq_len' }, batch: { value: 4, key: 'training.batch_size' }, dtype: { value: 'bf16', key: 'training.precision' } });
  const e = siteEstimate(scan.sites[0], { mode: 'inference' }, scan.training);
  assert.ok('shape' in e);
  assert.deepEqual([e.shape.seq, e.shape.batch, e.shape.dtype], [4096, 4, 'bf16']);
  assert.match(e.title, /^inference at n=4096 \(training\.seq_len\), bf16, batch 4: KV cache 512 MiB/);
  const set = siteEstimate(scan.sites[0], { mode: 'inference', seq: 200_000, batch: 1 }, scan.training);
  assert.ok('title' in set);
  assert.match(set.title, /⚠ n above the model's 131072 positions/);
  // Python: a trainer's keyword arguments and module-level assignments; JSON keys anywhere
  const py = configSites('cfg = LlamaConfig(hidden_size=512, num_attention_heads=8, num_hidden_layers=4)\nargs = TrainingArguments(per_device_train_batch_size=8, bf16=True)\nblock_size = 2048\n', 'python');
  assert.deepEqual(py.training, { batch: { value: 8, key: 'per_device_train_batch_size' }, dtype: { value: 'bf16', key: 'bf16' }, seq: { value: 2048, key: 'block_size' } });
  const json = configSites('{"model": {"hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2}, "max_seq_length": 256, "train_batch_size": 2}', 'json');
  assert.deepEqual([json.training?.seq?.value, json.training?.batch?.value], [256, 2]);
});

test("the inference peak ends with the logits where the architecture has a language-model head, in fp32", () => {
  const base = { model_type: 'bert', hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 256, vocab_size: 30522, max_position_embeddings: 128 };
  const lm = estimate({ ...base, architectures: ['BertForMaskedLM'] }, { seq: 128 }).dense;
  const encoder = estimate({ ...base, architectures: ['BertModel'] }, { seq: 128 }).dense;
  assert.equal(lm.logitsBytes, 128 * 30522 * 4);
  assert.equal(encoder.logitsBytes, 0, 'a bare encoder outputs hidden states');
  // the logits outweigh one layer's scores and activations here: the peak holds the weights and them
  assert.equal(lm.peakBytes, lm.weightBytes! + lm.logitsBytes);
  assert.equal(encoder.peakBytes, encoder.weightBytes! + encoder.transientScoresBytes + encoder.layerActivationBytes);
});

test("gemma-3-4b-it's published text_config (few keys) is estimated with transformers' Gemma 3 defaults: 8 heads, 4 KV heads of 256", () => {
  const text = configSites(readFileSync(join(REPO, 'test', 'fixtures', 'configs', 'gemma-3-4b-it.json'), 'utf8'), 'json').sites[0];
  assert.deepEqual(text.missing, []);
  assert.deepEqual([text.dims.heads, text.dims.kvHeads, text.dims.headDim, text.dims.maxPositions], [8, 4, 256, 131072]);
  const shaped = attentionShape(text.dims, { seq: 8192, mode: 'inference' });
  assert.ok('shape' in shaped);
  // per token and layer 2 (K, V) x 4 heads x 256 x 2 bytes; 5 global layers keep 8192 tokens, 29 local ones their 1024-token window
  const perToken = 2 * 4 * 256 * 2;
  assert.equal(denseEstimate(shaped.shape).kvCacheBytes, 5 * 8192 * perToken + 29 * 1024 * perToken);
});

test("Falcon's old multi-query layout has one key/value head even where num_kv_heads says 71 (transformers' FalconAttention)", () => {
  const falcon = { model_type: 'falcon', hidden_size: 4544, num_attention_heads: 71, num_hidden_layers: 32, multi_query: true, new_decoder_architecture: false, num_kv_heads: 71, vocab_size: 65024 };
  assert.equal(dimsFromValues(new Map(Object.entries(falcon))).kvHeads, 1);
  assert.equal(dimsFromValues(new Map(Object.entries({ ...falcon, new_decoder_architecture: true, num_kv_heads: 8 }))).kvHeads, 8, 'the new decoder reads num_kv_heads');
});
