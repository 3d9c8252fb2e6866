import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..');
export const SHARED_MODELS = resolve(REPO, '..', 'shared', 'models');
export const TINY_BERT = join(SHARED_MODELS, 'tiny-bert-mlm');
export const ORT_TESTDATA = join(SHARED_MODELS, 'ort-testdata');
export const SPECIMEN = join(REPO, 'media', 'specimen');
export const ENGINE = join(REPO, 'dist', 'engine.js');
export const CLI = join(REPO, 'bin', 'attention-lens.js');
export const GENAI_GQA = join(SHARED_MODELS, 'genai-qwen35-gqa');
export const ONNX_ATTENTION_OP = join(SHARED_MODELS, 'onnx-attention-op');
