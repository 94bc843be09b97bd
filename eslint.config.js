import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Boundaries (docs/design/capabilities.md). A capability is a folder of src/ with a module.ts; the platform is what
 * they all share and knows none of them; the SDK is a client that talks HTTP and carries no server code.
 */
export const CAPABILITIES = ['tracking', 'registry', 'data', 'lineage', 'webhooks', 'mlflow'];
/** What a capability shows others: its public types and API schemas; its services only as types (they are handed over at run time). */
const PUBLIC_FILES = '(types|[a-z-]+-types|schemas)\\.js';
const SERVICE_FILES = '(service|[a-z-]+-service)\\.js';
/** What the SDK package may import: node builtins, its dependencies, its own files (one level up at most, from contract/). */
const SDK_OUTSIDE = '^(?!node:|@sinclair/typebox$|yaml$|\\./|\\.\\./(?!\\.\\./))';
const SDK_MESSAGE =
  'The SDK (@kiln-mlops/sdk) imports only node builtins, @sinclair/typebox, yaml and its own files: it must install and load without the server, its database drivers or ONNX Runtime. Move shared pure code into packages/sdk/src/contract and import it from the server.';
const folder = (names) => `(^|/)(${names.join('|')})/`;
/** Patterns for files of `own` (a capability, or null for the CLI core and src/*.ts). */
function capabilityBoundaries(own) {
  const others = CAPABILITIES.filter((c) => c !== own);
  return [
    {
      regex: `${folder(others)}(?!${PUBLIC_FILES}$|${SERVICE_FILES}$)`,
      message: "A capability reaches another only through its service, public types (types.ts, *-types.ts) or API schemas (schemas.ts): never its store, tables, routes or internals. Add what you need to that capability's service.",
    },
    {
      regex: `${folder(others)}${SERVICE_FILES}$`,
      allowTypeImports: true,
      message: "Import another capability's service as a type only (`import type`): the server hands it over in module.ts's create(platform, deps).",
    },
  ];
}

const boundaries = [
  {
    files: ['src/platform/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `${folder([...CAPABILITIES, 'cli'])}|(^|/)(server|modules)\\.js$|^@kiln-mlops/sdk$`,
              message: 'platform/ imports no capability (nor the SDK, the CLI or the composition root): it is what every capability shares.',
            },
          ],
        },
      ],
    },
  },
  // The SDK (packages/sdk) is its own package: a client that talks HTTP. It imports node builtins, its two small
  // dependencies and its own files, never a path outside the package; its contract/ folder (the API's shapes and the
  // pure code the server shares, which the server imports from @kiln-mlops/sdk) imports only itself.
  // packages/sdk/src/imports.test.ts checks the compiled package the same way.
  {
    files: ['packages/sdk/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: SDK_OUTSIDE,
              message: SDK_MESSAGE,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/sdk/src/contract/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: SDK_OUTSIDE, message: SDK_MESSAGE },
            { regex: '^\\.\\./', message: 'sdk/contract imports only contract files: the server imports them without the SDK client.' },
          ],
        },
      ],
    },
  },
  ...CAPABILITIES.map((own) => ({
    files: [`src/${own}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: capabilityBoundaries(own) }] },
  })),
  {
    files: ['src/cli/**/*.ts', 'src/*.ts'],
    ignores: ['**/*.test.ts', 'src/modules.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: capabilityBoundaries(null) }] },
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'packages/*/dist/**', 'node_modules/**', 'web/dist/**', '.kiln/**', 'coverage/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...boundaries,
  {
    // Tests read loosely typed JSON answers of the HTTP APIs.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
