// The execution providers a user may ask for, and the choice among them: apart from ortSession.ts,
// so that what names them (the CLI's options, the settings) does not load ONNX Runtime, and so
// that the choice is pure (its probes are given to it).
import { InputError } from './inputError';

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export const EXECUTION_PROVIDER_CHOICES: readonly ExecutionProviderChoice[] = Object.freeze(['auto', 'cpu', 'webgpu', 'cuda']);

/** A provider that runs a session. */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';
export type GpuProvider = Exclude<ExecutionProvider, 'cpu'>;

/** What `auto` tries before the CPU, in order: CUDA's kernels are ONNX Runtime's most complete on a GPU. */
export const AUTO_GPU_ORDER: readonly GpuProvider[] = Object.freeze(['cuda', 'webgpu']);

/** The GPU that ONNX Runtime's device discovery reports: its providers tell no more of the adapter they use. */
export interface GpuAdapter {
  vendor: string;
  /** PCI ids, as ONNX Runtime writes them (0x10de) */
  vendorId: string;
  deviceId: string;
}

/** Whether a GPU provider starts here: with its adapter, or one short reason why not. */
export type ProviderProbe = { starts: true; adapter?: GpuAdapter } | { starts: false; reason: string };

/** How a session's provider was chosen. */
export interface ProviderRun {
  asked: ExecutionProviderChoice;
  /** the provider the choice came to */
  chosen: ExecutionProvider;
  /** the provider the session runs on: the chosen one, or the CPU where the model needs it (cpuInstead) */
  provider: ExecutionProvider;
  adapter?: GpuAdapter;
  /** the providers auto passed over, each with why: 'webgpu: no adapter: ...' */
  skipped: readonly string[];
  /** why the session runs on the CPU rather than the chosen provider */
  cpuInstead?: string;
}

/** The CPU, asked for. */
export const CPU_RUN: ProviderRun = Object.freeze({ asked: 'cpu', chosen: 'cpu', provider: 'cpu', skipped: Object.freeze([]) });

/**
 * The provider for a choice: cpu as asked; webgpu or cuda when its probe starts, else an error
 * with the probe's reason (an explicit choice does not fall back); auto the first of
 * AUTO_GPU_ORDER that starts, else the CPU, with why each was passed over.
 */
export async function providerRun(asked: ExecutionProviderChoice, probe: (p: GpuProvider) => Promise<ProviderProbe>): Promise<ProviderRun> {
  if (asked === 'cpu') return CPU_RUN;
  const skipped: string[] = [];
  for (const p of asked === 'auto' ? AUTO_GPU_ORDER : [asked]) {
    const found = await probe(p);
    if (found.starts) return { asked, chosen: p, provider: p, ...(found.adapter ? { adapter: found.adapter } : {}), skipped };
    if (asked !== 'auto') throw new InputError(`the ${p} execution provider cannot start: ${found.reason}`);
    skipped.push(`${p}: ${found.reason}`);
  }
  return { asked, chosen: 'cpu', provider: 'cpu', skipped };
}

/** The run moved to the CPU when `cpuOnly` names something of the model that only the CPU provider computes. */
export function cpuWhereNeeded(run: ProviderRun, cpuOnly: string | undefined): ProviderRun {
  if (run.provider === 'cpu' || !cpuOnly) return run;
  const { adapter: _gpu, ...rest } = run;
  return { ...rest, provider: 'cpu', cpuInstead: `${cpuOnly}: this capture ran on the CPU, not on ${run.chosen}` };
}

/** The run in one line, for the log, the status bar and the panel: 'cpu (auto skipped cuda: ...; webgpu: ...)'. */
export function providerLine(run: ProviderRun): string {
  const adapter = run.adapter ? ` on ${run.adapter.vendor} (PCI ${run.adapter.vendorId}:${run.adapter.deviceId})` : '';
  const instead = run.cpuInstead ? ` (${run.cpuInstead})` : '';
  const skipped = run.skipped.length ? ` (${run.asked} skipped ${run.skipped.join('; ')})` : '';
  return `${run.provider}${adapter}${instead}${skipped}`;
}
