// npm run fuzz: the fuzz suite's cases against the built CLI, with a fixed seed, and the summary
// (cases, outcomes by class and category, every bad outcome). Exits 1 when any outcome is bad.
// Every file each command opens is traced with strace where it is installed. Options: --seed S
// (15), --cases N (1200), --from I (0), --workers W (2), --untraced (directory listings only).
import { parseArgs } from 'node:util';
import { BAD_OUTCOMES, FuzzRun, fuzzSummary, runFuzz } from '../test/fuzz/fuzzRunner';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '15' }, cases: { type: 'string', default: '1200' }, from: { type: 'string', default: '0' }, workers: { type: 'string', default: '2' }, untraced: { type: 'boolean', default: false } } });
const from = Number(values.from);
const run: FuzzRun = {
  seed: Number(values.seed),
  indices: Array.from({ length: Number(values.cases) }, (_, i) => from + i),
  workers: Number(values.workers),
  timeoutMs: 60_000,
  memoryBytes: 1.5 * 2 ** 30,
  trace: !values.untraced,
};
const started = performance.now();
void runFuzz(run, (r, done) => {
  if ((BAD_OUTCOMES as readonly string[]).includes(r.outcome)) process.stderr.write(`case ${r.fuzz.index} (${r.fuzz.category}): ${r.outcome}: ${r.detail.slice(0, 300)}\n`);
  if (done % 100 === 0) process.stderr.write(`${done}/${run.indices.length} cases\n`);
}).then((results) => {
  const summary = fuzzSummary(run, results, (performance.now() - started) / 1000);
  process.stdout.write(summary + '\n');
  process.exitCode = /^bad outcomes: 0$/m.test(summary) ? 0 : 1;
});
