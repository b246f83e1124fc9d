/** What every page of a signed-in portal reads: the typed API, who signed in, and the way out. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from '../../api/client';
import type { Who } from '../../api/session';

export interface Portal {
  api: Api;
  token: string;
  who: Who;
  /** The signed-in user's identity (an SP has none). */
  uid: string;
  signOut(reason?: string): void;
}

export const PortalContext = createContext<Portal | null>(null);

export function usePortal(): Portal {
  const portal = useContext(PortalContext);
  if (!portal) throw new Error('usePortal outside a signed-in portal');
  return portal;
}
