/**
 * Whether a user's privacy settings let another user reach them for an audience-controlled
 * action (`copy`, `gifts`). Pure. A blocked user is refused whatever the audience says.
 */
import type { Identity } from '../domain/identity.js';
import type { Audience, Privacy } from '../domain/types.js';

export function audienceAdmits(privacy: Privacy, audience: Audience, who: Identity): boolean {
  if (privacy.blocked.includes(who)) return false;
  if (audience === 'everyone') return true;
  if (audience === 'contacts') return privacy.contacts.includes(who);
  return false;
}
