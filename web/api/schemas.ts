/**
 * The server's own request schemas (TypeBox), the very objects its routes validate with, read by
 * the pages' forms for their limits (`fields.ts`). Bundled into the page: no copy to drift.
 */
export { ClientInput, ResourceInput } from '../../src/http/schemas/catalog.js';
export { IdentityString } from '../../src/http/schemas/common.js';
export { OfflineCopyBody } from '../../src/http/schemas/copies.js';
export { CatalogBoxInput, FilterInput, GiftBody, PersonalBoxInput, Privacy, RuleInput, TimezoneBody } from '../../src/http/schemas/management.js';
