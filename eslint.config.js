// Type-aware lint rules: the checks that catch real bugs (floating promises, unsafe any) on every file.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Plain-JS tooling files (build script, configs) are outside the TypeScript project.
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '**/*.cjs',
      '**/*.mjs',
      'eslint.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-console': 'error',
    },
  },
  {
    // The dashboard's browser script: plain JS outside the TypeScript project, served as is.
    files: ['src/api/dashboard/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'fetch',
          'sessionStorage',
          'setTimeout',
          'clearTimeout',
          'AbortController',
          'TextDecoderStream',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // What the idle agent carries (BENCHMARKS.md, "Footprint aims (issue 16)").
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']",
          message:
            "Use `import * as z from 'zod'`: through zod's `z` re-export the bundle keeps all of zod (~90 KB more source in the idle agent's heap).",
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...['node:crypto', 'crypto'].map((name) => ({
              name,
              allowTypeImports: true,
              message:
                'Use nodeCrypto() (src/shared/node-crypto.ts): a static import loads node:crypto and Web Crypto while the agent starts.',
            })),
          ],
        },
      ],
    },
  },
  {
    // Tests and scripts talk to untyped JSON from real peers; chai-style assertions are fine there.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
