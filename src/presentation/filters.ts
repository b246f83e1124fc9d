/**
 * A viewer's filters (contract §2): what the viewer refuses to be presented.
 *
 * A filter rule refuses a resource when every criterion it sets matches (a rule of `ratings:
 * [mature]` and `providers: [acme]` refuses mature resources of acme only); a criterion matches
 * when the resource has any of its values. Several rules refuse what any of them refuses. A rule
 * that sets no criterion refuses nothing. `owners` names the identities whose presentations the
 * viewer refuses: it matches the owner presenting the resource.
 */
import type { Identity } from '../domain/identity.js';
import type { FilterRule, Resource } from '../domain/types.js';

export function refuses(filters: readonly FilterRule[], resource: Resource, owner: Identity): boolean {
  return filters.some((filter) => filterMatches(filter, resource, owner));
}

function filterMatches(filter: FilterRule, resource: Resource, owner: Identity): boolean {
  const criteria = [
    criterion(filter.categories, (category) => resource.categories.includes(category)),
    criterion(filter.ratings, (rating) => rating === resource.rating),
    criterion(filter.types, (type) => type === resource.type),
    criterion(filter.providers, (provider) => provider === resource.provider),
    criterion(filter.owners, (refused) => refused === owner),
  ].filter((result): result is boolean => result !== null);
  return criteria.length > 0 && criteria.every(Boolean);
}

/** Whether any value of a criterion matches; null when the rule does not set that criterion. */
function criterion<T>(values: readonly T[] | undefined, matches: (value: T) => boolean): boolean | null {
  return values && values.length > 0 ? values.some(matches) : null;
}
