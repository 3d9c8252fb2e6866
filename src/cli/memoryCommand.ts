// `attention-lens memory`: the memory attention takes, estimated from a config file or from the
// sizes given, for every method (docs/cli-json.md lists the fields).
import { parseArgs } from 'node:util';
import { DTYPES, Dtype, EstimateError, MODES, Mode, memoryEstimate } from '../memory/attentionMemory';
import { configSites, languageOfPath } from '../memory/configSites';
import { memoryLensTitle } from '../memory/memoryReport';
import { ModelDims, attentionShape, missingDims } from '../memory/modelDims';
import { InputError } from '../model/inputError';
import { readUserText } from '../model/userFiles';
import { outputPath, positiveOption, writeAtomically } from './optionValues';

/** `attention-lens memory`: the estimate of a config or of sizes given, as JSON. */
export function memoryCommand(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      hidden: { type: 'string' },
      'kv-heads': { type: 'string' },
      'head-dim': { type: 'string' },
      causal: { type: 'boolean' },
      seq: { type: 'string' },
      batch: { type: 'string', default: '1' },
      dtype: { type: 'string', default: 'fp32' },
      mode: { type: 'string', default: 'inference' },
      json: { type: 'string' },
    },
  });
  outputPath(values.json, 'json');
  const dtype = values.dtype as Dtype;
  if (!DTYPES.includes(dtype)) throw new InputError(`--dtype must be one of ${DTYPES.join(', ')}, not '${values.dtype}'`);
  const mode = values.mode as Mode;
  if (!MODES.includes(mode)) throw new InputError(`--mode must be inference or training, not '${values.mode}'`);
  let dims: ModelDims;
  let source: string;
  if (values.config !== undefined) {
    const language = languageOfPath(values.config);
    if (!language) throw new InputError(`--config takes a .json, .yaml/.yml or .py file, not ${values.config}`);
    const text = readUserText(values.config, 'config');
    const scan = configSites(text, language);
    if (scan.problems.length && !scan.sites.length) throw new InputError(`${values.config}: ${scan.problems[0]}`);
    const site = scan.sites.find((x) => x.missing.length === 0) ?? scan.sites[0];
    if (!site) throw new InputError(`${values.config} holds no model configuration (no layers, heads and hidden size found)`);
    if (site.missing.length) throw new InputError(`${values.config}: the ${site.label} configuration lacks ${site.missing.join(', ')}`);
    dims = site.dims;
    source = `${values.config} (${site.label})`;
  } else {
    dims = {
      layers: positiveOption(values.layers, 'layers'),
      heads: positiveOption(values.heads, 'heads'),
      hidden: positiveOption(values.hidden, 'hidden'),
      causal: false,
    };
    source = 'command line';
    const lacking = missingDims(dims);
    if (lacking.length) throw new InputError(`give --config FILE, or --layers, --heads and --hidden (missing ${lacking.join(', ')})`);
  }
  dims = {
    ...dims,
    kvHeads: positiveOption(values['kv-heads'], 'kv-heads') ?? dims.kvHeads,
    headDim: positiveOption(values['head-dim'], 'head-dim') ?? dims.headDim,
    causal: values.causal ?? dims.causal,
  };
  const shaped = attentionShape(dims, { seq: positiveOption(values.seq, 'seq'), batch: positiveOption(values.batch, 'batch')!, dtype, mode });
  if ('missing' in shaped) throw new InputError(`cannot estimate: missing ${shaped.missing.join(', ')}${shaped.missing.some((m) => m.includes('sequence')) ? ' (--seq n)' : ''}`);
  let estimate;
  try {
    estimate = memoryEstimate(shaped.shape);
  } catch (e) {
    if (e instanceof EstimateError) throw new InputError(e.message);
    throw e;
  }
  const report = JSON.stringify({ source, ...estimate });
  if (values.json) {
    writeAtomically(values.json, report + '\n');
    process.stdout.write(`${memoryLensTitle(estimate)}; wrote ${values.json}\n`);
  } else {
    process.stdout.write(report + '\n');
  }
}
