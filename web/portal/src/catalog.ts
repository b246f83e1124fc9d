/** The catalog as the user pages read it: resources by id (titles for library entries and rules) and the SP's boxes. */
import { must, type Schemas } from '../../api/client';
import type { Portal } from './context';

export type Resource = Schemas['Resource'];
export type Box = Schemas['Box'];
export type LibraryEntry = Schemas['LibraryEntry'];

export async function loadResources(api: Portal['api'], status?: 'available'): Promise<Map<string, Resource>> {
  const resources = await must(api.GET('/v1/resources', { params: { query: status ? { status } : {} } }));
  return new Map(resources.map((r) => [r.id, r]));
}

export const titleOf = (resources: Map<string, Resource> | undefined, id: string): string => resources?.get(id)?.title ?? id;

/** The path parameter of the signed-in user. */
export const own = (portal: Portal) => ({ path: { uid: portal.uid } });

export const isActive = (entry: LibraryEntry): boolean => entry.status === 'active';
