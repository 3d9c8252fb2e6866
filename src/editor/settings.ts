// Typed access to the attentionLens.* settings, through one accessor.
import * as vscode from 'vscode';
import { DTYPES, Dtype, MODES, Mode } from '../memory/attentionMemory';
import type { MemoryControls } from '../protocol';
import type { EstimateSettings } from '../memory/modelDims';
import type { ExecutionProviderChoice } from '../model/executionProviders';

const section = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('attentionLens');

export function executionProvider(): ExecutionProviderChoice {
  return section().get<ExecutionProviderChoice>('executionProvider', 'auto');
}

/** The largest document scanned for model configurations (characters, about bytes). */
export function configScanLimitChars(): number {
  const kib = section().get<number>('configScanLimitKiB', 2048);
  return (Number.isInteger(kib) && kib > 0 ? kib : 2048) * 1024;
}

/** The bytes of captures the engine keeps for the panels. */
export function captureCacheBytes(): number {
  const mib = section().get<number>('captureCacheMiB', 2048);
  return (Number.isInteger(mib) && mib >= 64 ? mib : 2048) * 2 ** 20;
}

/** How long the head map may take for the attention panel to draw it at once (seconds); longer, it is offered with its cost. */
export function headMapSeconds(): number {
  const seconds = section().get<number>('headMapSeconds', 2);
  return seconds >= 0 ? seconds : 2;
}

/** Whole numbers above 0 from a list setting; the rest dropped (an empty list: the defaults). */
const positiveWholes = (xs: unknown): number[] => (Array.isArray(xs) ? xs.filter((x): x is number => Number.isInteger(x) && x > 0) : []);

/** Profile Model Memory's sweep: its lengths (powers of two up to the model's positions when none), batch sizes, memory budget (the machine's free memory when 0), and whether each point runs the capture's tapped copy too. */
export function profileSettings(): { lengths?: number[]; batches: number[]; budgetBytes?: number; tapped: boolean } {
  const c = section();
  const lengths = positiveWholes(c.get('profileLengths', []));
  const batches = positiveWholes(c.get('profileBatchSizes', [1]));
  const mib = c.get<number>('profileBudgetMiB', 0);
  return {
    ...(lengths.length ? { lengths: [...new Set(lengths)].sort((a, b) => a - b) } : {}),
    batches: batches.length ? [...new Set(batches)] : [1],
    ...(mib > 0 ? { budgetBytes: mib * 2 ** 20 } : {}),
    tapped: c.get<boolean>('profileTapped', false) === true,
  };
}

/** Whether the layers to capture are always asked for, or only when all of them would not fit in the captures the engine keeps. */
export function alwaysAskLayers(): boolean {
  return section().get<string>('layerPicker', 'whenTooLarge') === 'always';
}

/** Whether each run opens a panel of its own (else it replaces the last panel's capture). */
export function panelPerRun(): boolean {
  return section().get<boolean>('panelPerRun', true);
}

/** The model offered first when one is picked, if the user set one. */
export function defaultModelPath(): string | undefined {
  const path = section().get<string>('modelPath', '').trim();
  return path === '' ? undefined : path;
}

/** The efficient-attention lab's choices the user can set: adaptive-span coverage and the LSH/routing seed (which draws the induction probe's tokens too). */
export function labSettings(): { coverage: number; seed: number } {
  const c = section();
  const coverage = c.get<number>('coverage', 0.9);
  const seed = c.get<number>('seed', 1);
  return { coverage: coverage > 0 && coverage <= 1 ? coverage : 0.9, seed: Number.isInteger(seed) ? seed : 1 };
}

/** The assumptions of the inline estimates; what is left unset (0, auto) comes from the file and the config. */
export function estimateSettings(): EstimateSettings {
  const c = section();
  const seq = c.get<number>('sequenceLength', 0);
  const batch = c.get<number>('batchSize', 0);
  const dtype = c.get<string>('dtype', 'auto') as Dtype;
  const mode = c.get<string>('mode', 'inference') as Mode;
  const fused = c.get<string>('fusedKernel', 'auto');
  return {
    seq: Number.isInteger(seq) && seq > 0 ? seq : undefined,
    batch: Number.isInteger(batch) && batch > 0 ? batch : undefined,
    dtype: DTYPES.includes(dtype) ? dtype : undefined,
    mode: MODES.includes(mode) ? mode : 'inference',
    fusedKernel: fused === 'on' ? true : fused === 'off' ? false : undefined,
  };
}

export const affectsEstimates = (e: vscode.ConfigurationChangeEvent): boolean =>
  ['sequenceLength', 'batchSize', 'dtype', 'mode', 'fusedKernel'].some((k) => e.affectsConfiguration(`attentionLens.${k}`));

/** `base` (the settings' assumptions, or a shape) with a memory view's controls over it, where the user changed them; a dtype or mode it does not know leaves the base's. */
export function withControls<T extends EstimateSettings>(base: T, c: Partial<MemoryControls>): T {
  const dtype = DTYPES.includes(c.dtype as Dtype) ? (c.dtype as Dtype) : undefined;
  const mode = MODES.includes(c.mode as Mode) ? (c.mode as Mode) : undefined;
  return { ...base, seq: c.seq ?? base.seq, batch: c.batch ?? base.batch, dtype: dtype ?? base.dtype, mode: mode ?? base.mode, fusedKernel: c.fusedKernel ?? base.fusedKernel };
}

/** The settings' assumptions with a memory view's controls over them, where the user changed them. */
export const estimateSettingsWith = (c: Partial<MemoryControls>): EstimateSettings => withControls(estimateSettings(), c);
