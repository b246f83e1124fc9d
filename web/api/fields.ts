/**
 * Form fields checked in the page as the API checks them: the limits come from the server's own
 * TypeBox schemas (the ones its routes validate with and its OpenAPI document is built from), and
 * identities and time zones go through the server's own checks, so a page never accepts what the API refuses
 * nor refuses what it accepts. Messages are in words, for the field's error text.
 */
import { parseIdentity } from '../../src/domain/identity.js';
import { formatWords, patternWords } from '../../src/http/schemas/field-words.js';
export { timeZoneProblem } from '../../src/domain/time-zone.js';

/** The JSON Schema keywords a form field can break. */
export interface FieldSchema {
  type?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  minItems?: number;
  uniqueItems?: boolean;
  items?: FieldSchema;
  description?: string;
}

/** A schema's limits as plain keywords (TypeBox's types do not show them all), e.g. for an input's `maxLength`. */
export const limitsOf = (schema: unknown): FieldSchema => schema as FieldSchema;

/** What is wrong with a text field's value, or null. Empty optional fields are the caller's business. */
export function checkText(schema: FieldSchema, value: string): string | null {
  if (schema.type === 'integer' || schema.type === 'number') return checkNumber(schema, value);
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    return schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`;
  }
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return `must be at most ${schema.maxLength} characters`;
  // In the API's order: the pattern, then the format.
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) return patternWords(schema.description);
  if (schema.format === 'uri' && !isAbsoluteUri(value)) return formatWords(schema.format);
  return null;
}

function checkNumber(schema: FieldSchema, value: string): string | null {
  if (!/^-?\d+(\.\d+)?$/.test(value.trim())) return 'must be a number';
  const n = Number(value);
  if (schema.type === 'integer' && !Number.isInteger(n)) return 'must be a whole number';
  if (schema.minimum !== undefined && n < schema.minimum) return `must be at least ${schema.minimum}`;
  if (schema.maximum !== undefined && n > schema.maximum) return `must be at most ${schema.maximum}`;
  return null;
}

/** A list typed one item a line (or comma-separated): each item checked, then the list's own limits. */
export function checkList(schema: FieldSchema, items: string[], itemCheck: (item: string) => string | null = (i) => checkText(schema.items ?? {}, i)): string | null {
  for (const item of items) {
    const problem = itemCheck(item);
    if (problem) return `"${item}" ${problem}`;
  }
  if (schema.minItems !== undefined && items.length < schema.minItems) return schema.minItems === 1 ? 'must name at least one' : `must name at least ${schema.minItems}`;
  if (schema.maxItems !== undefined && items.length > schema.maxItems) return `must name at most ${schema.maxItems}`;
  if (schema.uniqueItems && new Set(items).size !== items.length) return 'must not name the same one twice';
  return null;
}

/** What is wrong with an identity (tel:+… or sip:user@host), in the server's words. */
export function checkIdentity(value: string): string | null {
  const parsed = parseIdentity(value);
  return parsed.ok ? null : parsed.reason;
}

/** Splits a multi-value field: one item a line or comma-separated, blanks dropped. */
export const splitList = (text: string): string[] =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

function isAbsoluteUri(value: string): boolean {
  try {
    return Boolean(new URL(value).protocol);
  } catch {
    return false;
  }
}

