// The command line's promise for bad input: exit 2 and one line on stderr saying what and why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI } from './paths';

/** Runs the CLI with `args` and checks it refused them in one stderr line that matches `message`. */
export function refuses(args: string[], message: RegExp): void {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], message);
}
