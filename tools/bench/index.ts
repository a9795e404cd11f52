/**
 * `npm run bench`: runs every `*.bench.js` module beside this file and prints one JSON object
 * { backend, node, started, results: { <module>: <its JSON> } } to stdout (progress to stderr),
 * also written to `.bench/results.json`. Each module exports `run(): Promise<object>`.
 * `npm run bench -- <name> ...` runs only the named modules; `--no-ess` skips the ESS-config parts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from 'anomaly-lab';
import { defineOptions, quoteName } from 'anomaly-lab/core';
import { toolArgs } from '../common/args';

const BENCH = {
  name: 'bench',
  usage: 'npm run -s bench -- [<module> ...] [--no-ess]',
  summary:
    'Runs the benchmark modules (estimate, metrics, parsers, power, train, viewer; all when none is named) and prints one JSON object.',
  specs: defineOptions({
    ess: { kind: 'boolean', default: true, help: 'include the slow ESS-configuration parts (--no-ess skips them: BENCH_ESS=0)' },
  }),
  positional: true,
};

async function main(): Promise<void> {
  const { options, positional: only } = toolArgs(BENCH);
  if (!options.ess) process.env.BENCH_ESS = '0';
  const all = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.slice(0, -'.bench.js'.length))
    .sort();
  const unknown = only.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no benchmark ${quoteName(unknown[0], 80)} (have: ${all.join(', ')})\n`);
    process.exit(2);
  }
  const names = all.filter((n) => only.length === 0 || only.includes(n));
  const info = await initBackend({});
  const results: Record<string, unknown> = {};
  for (const name of names) {
    process.stderr.write(`bench: ${name} ...\n`);
    const mod = (await import(path.join(__dirname, `${name}.bench.js`))) as { run(): Promise<unknown> };
    const t0 = Date.now();
    try {
      results[name] = await mod.run();
    } catch (e) {
      results[name] = { error: (e as Error).message };
    }
    process.stderr.write(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const out = { backend: info.name, node: process.version, started: new Date().toISOString(), results };
  const json = JSON.stringify(out, null, 2);
  fs.mkdirSync('.bench', { recursive: true });
  fs.writeFileSync(path.join('.bench', 'results.json'), json);
  process.stdout.write(json + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
