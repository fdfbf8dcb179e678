// Runs a bench script the way the package ships: bundled by esbuild (npm packages stay
// external, as in build.mjs), then run by Node with --expose-gc.
//   node bench/main.mjs run                 (npm run bench)
//   node bench/main.mjs run checkpoint      (npm run bench:checkpoint)
//   node bench/main.mjs profile "2." junjo 5 [node flags after --, e.g. -- --cpu-prof]
// Running the TypeScript through tsx instead would measure tsx: it keeps function names by
// wrapping every closure the runtime creates in a call that gives it an own `name` property,
// which costs every run time and heap that no user of the built package pays.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';

const [entry = 'run', ...rest] = process.argv.slice(2);
const split = rest.indexOf('--');
const args = split === -1 ? rest : rest.slice(0, split);
const nodeFlags = split === -1 ? [] : rest.slice(split + 1);
const outfile = `node_modules/.cache/junjo-bench/${entry}.mjs`;

await build({
  entryPoints: [`bench/${entry}.ts`],
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  outfile,
  logLevel: 'warning',
});
const { status } = spawnSync(process.execPath, ['--expose-gc', ...nodeFlags, outfile, ...args], { stdio: 'inherit' });
process.exit(status ?? 1);
