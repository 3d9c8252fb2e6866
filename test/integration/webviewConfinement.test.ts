// The webview's tsconfig lists what the webview may import (itself, the protocol, the pure
// analysis) and is a composite project, so that an import of any other source of the project
// fails to compile; without Node's types, so do Node's modules.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from '../helpers/paths';

const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

function compiledWith(probe: string): string {
  const file = join(REPO, 'webview', `confinement-probe-${process.pid}.ts`);
  writeFileSync(file, probe);
  try {
    const r = spawnSync(process.execPath, [TSC, '-p', join(REPO, 'webview')], { encoding: 'utf8' });
    return r.stdout + r.stderr;
  } finally {
    rmSync(file, { force: true });
  }
}

test('the webview compiles against the protocol and the pure analysis, and not against host modules', () => {
  assert.equal(compiledWith("import { HEAD_STAT_KEYS } from '../src/analysis/headStatKeys';\nexport const keys = HEAD_STAT_KEYS;\n"), '', 'the pure analysis is allowed');
  for (const [module, error] of [
    ['../src/memory/attentionMemory', /TS6307: File .*src\/memory\/attentionMemory\.ts' is not listed within the file list of project/],
    ['../src/model/capture', /TS6307: File .*src\/model\/capture\.ts' is not listed/],
    ['../src/engine/engineClient', /TS6307: File .*src\/engine\/engineClient\.ts' is not listed/],
    ['../src/editor/attentionPanel', /TS6307: File .*src\/editor\/attentionPanel\.ts' is not listed/],
    // no Node types in the webview: its built-in modules are not there
    ['node:fs', /TS2591: Cannot find name 'node:fs'/],
  ] as const) {
    assert.match(compiledWith(`import * as m from '${module}';\nexport const x = m;\n`), error, module);
  }
});
