// Typed access to the attentionLens.* settings, through one accessor.
import * as vscode from 'vscode';
import { DTYPES, Dtype, MODES, Mode } from '../memory/attentionMemory';
import type { EstimateSettings } from '../memory/modelDims';
import type { ExecutionProviderChoice } from '../model/ortSession';

const section = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('attentionLens');

export function executionProvider(): ExecutionProviderChoice {
  return section().get<ExecutionProviderChoice>('executionProvider', 'auto');
}

/** The assumptions of the inline estimates; bad values fall back to the defaults. */
export function estimateSettings(): EstimateSettings {
  const c = section();
  const seq = c.get<number>('sequenceLength', 0);
  const batch = c.get<number>('batchSize', 1);
  const dtype = c.get<string>('dtype', 'fp32') as Dtype;
  const mode = c.get<string>('mode', 'inference') as Mode;
  return {
    seq: Number.isInteger(seq) && seq > 0 ? seq : undefined,
    batch: Number.isInteger(batch) && batch > 0 ? batch : 1,
    dtype: DTYPES.includes(dtype) ? dtype : 'fp32',
    mode: MODES.includes(mode) ? mode : 'inference',
  };
}

export const affectsEstimates = (e: vscode.ConfigurationChangeEvent): boolean =>
  ['sequenceLength', 'batchSize', 'dtype', 'mode'].some((k) => e.affectsConfiguration(`attentionLens.${k}`));
