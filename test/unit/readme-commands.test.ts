import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/command-table.js';

describe("the README's command table", () => {
  it('lists every command with the usage the CLI prints', () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('| command | what it does |'));
    const rows = [...table.matchAll(/^\| `([^`]+)`/gm)].map((match) => match[1]!);
    for (const [name, spec] of Object.entries(COMMANDS)) {
      expect(rows, `README row for ${name}`).toContain(spec.usage.replace(/^fanout /, ''));
    }
  });
});
