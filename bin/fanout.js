#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` produces dist/. During development use `npm run fanout --`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  console.error('fanout: dist/ is missing. Run `npm run build` first, or use `npm run fanout -- <command>`.');
  process.exit(2);
}
const { main } = await import(compiled);
process.exitCode = await main(process.argv.slice(2));
