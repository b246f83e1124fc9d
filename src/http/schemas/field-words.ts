/**
 * What a field that breaks its schema's `pattern` or `format` is told, in words, never as a
 * regular expression: the API's problems (`plugins/problem.ts`) and the portal's own checks
 * (`web/api/fields.ts`) say the same. A pattern is explained by its schema's `description`.
 */
export const patternWords = (description: unknown): string =>
  `must match the expected form${typeof description === 'string' && description ? ` (${description})` : ''}`;

export const formatWords = (format: unknown): string => (format === 'uri' ? 'must be an absolute address (http:// or https://…)' : `must be a valid ${String(format)}`);
