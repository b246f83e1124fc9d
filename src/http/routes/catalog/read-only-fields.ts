/** GET-modify-PUT: a replaced document may carry its read-only fields back unchanged. */
import { CmrError } from '../../../domain/errors.js';

/** The body without `id` and timestamps; 400 when its `id` names another document than the path. */
export function withoutReadOnlyFields<T extends { id?: string; createdAt?: string; updatedAt?: string }>(
  pathId: string,
  body: T,
): Omit<T, 'id' | 'createdAt' | 'updatedAt'> {
  const { id, createdAt: _createdAt, updatedAt: _updatedAt, ...fields } = body;
  if (id !== undefined && id !== pathId) throw new CmrError('validation-failed', `body id "${id}" is not the id of the path "${pathId}"`);
  return fields;
}
