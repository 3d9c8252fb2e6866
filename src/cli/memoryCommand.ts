// `attention-lens memory`: the memory attention takes, estimated from a config file or from the
// sizes given, for every method (docs/cli-json.md lists the fields).
import { DTYPES, Dtype, EstimateError, MODES, Mode, memoryEstimate } from '../memory/attentionMemory';
import { FileSettings, configSites, languageOfPath } from '../memory/configSites';
import { EstimateNotes, memoryLensTitle } from '../memory/memoryReport';
import { ModelDims, attentionShape, missingDims } from '../memory/modelDims';
import { InputError } from '../model/inputError';
import { readUserText } from '../model/userFiles';
import { writeAtomically } from '../model/userFiles';
import { outputPath, parsedOptions, positiveOption } from './optionValues';

/** `attention-lens memory`: the estimate of a config or of sizes given, as JSON. */
export function memoryCommand(argv: string[]): void {
  const values = parsedOptions(argv, {
    config: { type: 'string' },
    layers: { type: 'string' },
    heads: { type: 'string' },
    hidden: { type: 'string' },
    'kv-heads': { type: 'string' },
    'head-dim': { type: 'string' },
    causal: { type: 'boolean' },
    'fused-kernel': { type: 'boolean' },
    seq: { type: 'string' },
    batch: { type: 'string' },
    dtype: { type: 'string' },
    mode: { type: 'string', default: 'inference' },
    json: { type: 'string' },
  });
  outputPath(values.json, 'json');
  const dtype = values.dtype as Dtype | undefined;
  if (dtype !== undefined && !DTYPES.includes(dtype)) throw new InputError(`--dtype must be one of ${DTYPES.join(', ')}, not '${values.dtype}'`);
  const mode = values.mode as Mode;
  if (!MODES.includes(mode)) throw new InputError(`--mode must be one of ${MODES.join(', ')}, not '${values.mode}'`);
  let dims: ModelDims;
  let source: string;
  // the file's own training keys (seq_len, batch_size, precision) stand in for options not given
  let training: FileSettings = {};
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
    training = scan.training ?? {};
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
  const seq = positiveOption(values.seq, 'seq');
  const seqFromFile = seq === undefined ? training.seq : undefined;
  const shaped = attentionShape(dims, {
    seq: seq ?? seqFromFile?.value,
    batch: positiveOption(values.batch, 'batch') ?? training.batch?.value,
    dtype: dtype ?? training.dtype?.value,
    mode,
    fusedKernel: values['fused-kernel'],
  });
  if ('missing' in shaped) throw new InputError(`cannot estimate: missing ${shaped.missing.join(', ')}${shaped.missing.some((m) => m.includes('sequence')) ? ' (--seq n)' : ''}`);
  let estimate;
  try {
    estimate = memoryEstimate(shaped.shape);
  } catch (e) {
    if (e instanceof EstimateError) throw new InputError(e.message);
    throw e;
  }
  const notes: EstimateNotes = {
    ...(seqFromFile ? { seqKey: seqFromFile.key } : {}),
    ...(dims.maxPositions !== undefined && shaped.shape.seq > dims.maxPositions ? { positionsExceeded: dims.maxPositions } : {}),
  };
  const report = JSON.stringify({ source, notes, ...estimate });
  if (values.json) {
    writeAtomically(values.json, report + '\n');
    process.stdout.write(`${memoryLensTitle(estimate, notes)}; wrote ${values.json}\n`);
  } else {
    process.stdout.write(report + '\n');
  }
}
