// `attention-lens profile`: the model run in the engine at a sweep of sequence lengths and batch
// sizes with ONNX Runtime's profiler on, the estimate beside each point (docs/cli-json.md lists the fields).
import { readFileSync } from 'node:fs';
import type { MemoryProfile } from '../analysis/memoryProfile';
import { binaryBytes } from '../analysis/units';
import { EngineClient } from '../engine/engineClient';
import { InputError } from '../model/inputError';
import { modelProfile } from '../modelProfile';
import { profileReportHtml } from '../reportHtml';
import { readUserText, writeAtomically } from '../model/userFiles';
import { configFileChart } from '../memory/memoryReport';
import { bytesOption, numberList, outputPath, parsedOptions, positiveOption, providerOption, timeoutMsOption } from './optionValues';

export interface ProfileFiles {
  enginePath: string;
  webviewBundle: string;
  reportHost: string;
  css: string;
  specimenFolder: string;
}

/** "tiny-bert: 4 points, peak 41.8 MiB at n=128 (attention n^2.00), fits in 8 GiB up to n = 128" */
export function profileSummary(p: MemoryProfile): string {
  const last = p.points.at(-1);
  if (!last) return `${p.model}: no point was measured${p.stopped ? `: ${p.stopped}` : ''}`;
  const exp = p.fit.attentionBytes.exponent;
  const fits = p.budget.fitsUpTo === null ? '' : `, fits in ${binaryBytes(p.budget.bytes)} up to n = ${p.budget.fitsUpTo}`;
  const tapped = last.tapped ? ` (${binaryBytes(last.tapped.peakBytes)} tapped for a capture)` : '';
  return `${p.model}: ${p.points.length} points, peak ${binaryBytes(last.peakBytes)}${tapped} at n=${last.n} (batch ${last.batch})${exp === null ? '' : `, attention grows as n^${exp.toFixed(2)}`}${fits}${p.stopped ? `; ${p.stopped}` : ''}`;
}

export async function profileCommand(argv: string[], files: ProfileFiles): Promise<void> {
  const values = parsedOptions(argv, {
    model: { type: 'string' },
    seq: { type: 'string' },
    batch: { type: 'string' },
    ep: { type: 'string', default: 'auto' },
    budget: { type: 'string' },
    text: { type: 'string' },
    seed: { type: 'string', default: '0' },
    'no-mem-pattern': { type: 'boolean' },
    tapped: { type: 'boolean' },
    'extrapolate-to': { type: 'string' },
    timeout: { type: 'string', default: '600' },
    json: { type: 'string' },
    html: { type: 'string' },
  });
  if (!values.model) throw new InputError('--model is required (a .onnx file, a model folder, or demo)');
  const ep = providerOption(values.ep);
  outputPath(values.json, 'json');
  outputPath(values.html, 'html');
  const positive = (list: number[] | undefined, what: string): number[] | undefined => {
    if (list?.some((v) => v < 1)) throw new InputError(`--${what} takes positive whole numbers, not '${list.join(',')}'`);
    return list;
  };
  const timeoutMs = timeoutMsOption(values.timeout);
  const engine = new EngineClient({ enginePath: files.enginePath, timeoutMs });
  try {
    const profile = await modelProfile(
      engine,
      {
        model: values.model === 'demo' ? files.specimenFolder : values.model,
        ep,
        lengths: positive(values.seq === undefined ? undefined : numberList(values.seq, 'seq'), 'seq'),
        batches: positive(values.batch === undefined ? undefined : numberList(values.batch, 'batch'), 'batch'),
        text: values.text,
        seed: Number(values.seed),
        memPattern: !values['no-mem-pattern'],
        tapped: values.tapped === true,
        budgetBytes: bytesOption(values.budget, 'budget'),
        extrapolateTo: positiveOption(values['extrapolate-to'], 'extrapolate-to'),
      },
      (i, total, n, batch) => process.stderr.write(`attention-lens: point ${i + 1}/${total}: n = ${n}, batch ${batch}\n`),
    );
    if (values.html !== undefined) {
      const bundles = { webview: readFileSync(files.webviewBundle, 'utf8'), host: readFileSync(files.reportHost, 'utf8') };
      // the config's own inference estimate (no editor's settings) as the first tab
      const estimate = profile.configPath ? configFileChart(readUserText(profile.configPath, 'config'), { mode: 'inference' }) : undefined;
      writeAtomically(values.html, profileReportHtml(profile, bundles, readFileSync(files.css, 'utf8'), estimate && !('problem' in estimate) ? estimate : undefined));
      process.stderr.write(`attention-lens: wrote the report ${values.html}\n`);
    }
    const json = JSON.stringify(profile);
    if (values.json) {
      writeAtomically(values.json, json + '\n');
      process.stdout.write(`${profileSummary(profile)}; wrote ${values.json}\n`);
    } else process.stdout.write(json + '\n');
    if (profile.points.length === 0 && profile.stopped) throw new InputError(profile.stopped);
  } finally {
    engine.dispose();
  }
}
