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
const folder = (names) => `(^|/)(${names.join('|')})/`;
/**
 * Dependency-free files the SDK shares with the server besides the capabilities' public types and schemas: the
 * shared API shapes, key/value maps, the error catalog, dataset references and file formats, the MLflow model folder
 * writer, the version. src/sdk/imports.test.ts walks the SDK's whole import graph to check they stay dependency-free.
 */
const SDK_CONTRACT = ['platform/http/schemas\\.js', 'platform/tags\\.js', 'platform/errors\\.js', 'data/(formats|refs)\\.js', 'registry/packaging/(write-package|mlmodel|signature)\\.js', 'version\\.js'];

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
              regex: `${folder([...CAPABILITIES, 'sdk', 'cli'])}|(^|/)(server|modules)\\.js$`,
              message: 'platform/ imports no capability (nor the SDK, the CLI or the composition root): it is what every capability shares.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/sdk/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^\\.\\./(?!(${CAPABILITIES.join('|')})/${PUBLIC_FILES}$|${SDK_CONTRACT.join('$|')}$)`,
              message:
                'sdk/ imports no server code: only the API schemas (schemas.ts) and public types (types.ts) of capabilities, and the dependency-free contract files listed in eslint.config.js. It must install and load without the server, its database drivers or ONNX Runtime.',
            },
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
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', '.kiln/**', 'coverage/**', 'tmp/**'] },
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
