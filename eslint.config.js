// Lint: typescript-eslint's recommended rules, and the layering of ARCHITECTURE.md as import rules
// (imports point downward only; only adapters and the App's edge import SDKs).
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const CAPABILITIES = ['agent', 'plan', 'model', 'validate', 'merge', 'report'];
const ENTRY = ['./src/app', './src/cli', './src/main.ts', './src/main-app.ts'];
const zone = (target, from, message) => ({ target, from, message });
const dirs = (names) => names.map((name) => `./src/${name}`);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.fanout/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    // `./x.js` in an import names `./x.ts`: the resolver must know, or path rules see nothing.
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            zone(
              './src/domain',
              [...dirs(['adapters', 'orchestrate', 'ports', ...CAPABILITIES]), ...ENTRY],
              'domain/ is the bottom layer: it imports nothing above it.',
            ),
            zone(
              './src/config',
              [...dirs(['adapters', 'orchestrate', 'ports', ...CAPABILITIES]), ...ENTRY],
              'config/ sits with domain/: it imports nothing above it.',
            ),
            zone(
              './src/ports',
              [...dirs(['adapters', 'orchestrate', ...CAPABILITIES]), ...ENTRY],
              'ports/ are interfaces over domain types only.',
            ),
            ...CAPABILITIES.map((name) =>
              zone(
                `./src/${name}`,
                [...dirs(['adapters', 'orchestrate']), ...ENTRY],
                'capabilities take ports as arguments; they never import adapters, the pipeline or entry points.',
              ),
            ),
            zone(
              './src/orchestrate',
              [...dirs(['adapters']), ...ENTRY],
              'the pipeline gets adapters from the composition root, never by import.',
            ),
            zone(
              './src/adapters',
              [...dirs(['orchestrate', ...CAPABILITIES]), ...ENTRY],
              'adapters implement ports; they do not reach up into the pipeline.',
            ),
          ],
        },
      ],
    },
  },
  {
    // SDKs stay at the edges: adapters, the App's handlers and the composition roots.
    files: ['src/**/*.ts'],
    ignores: [
      'src/adapters/**',
      'src/app/**',
      'src/main.ts',
      'src/main-app.ts',
      'src/main-worker.ts',
      'src/cli/commands/serve.ts',
      'src/scripted-model/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['openai', '@anthropic-ai/sdk', 'execa', 'probot', 'simple-git', 'ioredis', 'bullmq'].map((name) => ({
            name,
            message: 'SDKs are imported by adapters only (see ARCHITECTURE.md).',
          })),
          patterns: [
            {
              group: ['@octokit/*', '@anthropic-ai/sdk/*'],
              message: 'SDKs are imported by adapters only (see ARCHITECTURE.md).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
