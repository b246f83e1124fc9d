// typescript-eslint with type information (`npm run lint`, run by `npm test`): the type-checked
// recommended rules, which catch real faults — floating and misused promises, unsafe `any`
// flowing into typed code, unbound methods, needless assertions that hide type changes.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', '**/node_modules/', 'bench/results/', 'coverage/'] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Fastify hooks and handlers signal completion by the promise an async function returns
      // (a plain function of the same arity would be waited on for its callback), so an async
      // function without `await` is how its API is used, not a fault.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore names what a destructuring leaves out on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // A variable bound late on purpose (read by a callback made before it is set) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests read the JSON of HTTP answers (`inject().json()`, typed `any`) and assert on it: the
    // assertion is the check, so the rules on `any` flowing into typed code stay on for the
    // product (src, sip, scripts, bench) only.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Page event handlers run their work through `useAction`/`run`, which never rejects: it shows
    // a failure in the page. The promise such a handler returns is therefore safe to drop, as
    // Preact does with any handler's result; promises passed anywhere else are still checked.
    files: ['web/**/*.tsx'],
    rules: { '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }] },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
