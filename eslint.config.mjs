import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      'cache/',
      'src/contracts/generated/',
      'scripts/*.cjs',
      'jest.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='parseFloat']",
          message: 'Parse amounts as bigint; see src/common/amount.ts.',
        },
      ],
    },
  },
  {
    // The risk engine is pure: no I/O, no framework, no chain client.
    files: ['src/risk/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '@nestjs/*',
            'viem',
            'viem/*',
            'bullmq',
            'ioredis',
            'node:fs',
            'fs',
            'node:net',
            'node:http',
          ],
        },
      ],
    },
  },
);
