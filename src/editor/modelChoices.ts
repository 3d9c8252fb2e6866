// Files the user chose for a model, remembered per model in the extension's state: a tokenizer
// for a model without one beside it, an audio encoder's features. A choice whose file is gone is
// forgotten, and the user is asked again.
import { existsSync } from 'node:fs';
import type * as vscode from 'vscode';
import type { ModelInfo } from '../model/capture';

export const TOKENIZERS_KEY = 'attentionLens.tokenizers';
export const FEATURES_KEY = 'attentionLens.inputFeatures';

/** The file chosen before under `key` for this model, while it is still there. */
export function rememberedFile(store: vscode.Memento, key: string, modelPath: string): string | undefined {
  const path = store.get<Record<string, string>>(key, {})[modelPath];
  return path && existsSync(path) ? path : undefined;
}

export function rememberFile(store: vscode.Memento, key: string, modelPath: string, file: string): Thenable<void> {
  return store.update(key, { ...store.get<Record<string, string>>(key, {}), [modelPath]: file });
}

/** Whether the model reads audio features (a Whisper encoder's input_features) rather than a text. */
export const takesFeatures = (info: Pick<ModelInfo, 'inputs'>): boolean => info.inputs.some((i) => i.role === 'features');
