/** The CMR domain (contract §2). Plain data: no behaviour, no I/O. */
import type { Identity } from './identity.js';

export type ResourceType = 'audio' | 'video' | 'image' | 'text' | 'multimedia';
export type Rating = 'general' | 'teen' | 'mature';
export type ResourceStatus = 'available' | 'withdrawn';

export interface Prices {
  subscribe: number;
  renew: number;
  copy: number;
  gift: number;
  /** ISO 4217 code; amounts are in its minor units. */
  currency: string;
}

export interface Resource {
  id: string;
  title: string;
  type: ResourceType;
  contentUri: string;
  mimeType: string;
  durationSec?: number;
  categories: string[];
  rating: Rating;
  provider: string;
  copyable: boolean;
  validityDays: number;
  prices: Prices;
  status: ResourceStatus;
  createdAt: string;
  updatedAt: string;
}

export type PlayMode = 'sequential' | 'random';

/** An SP box (catalog, priced) or a user's personal box (built from the library). */
export interface Box {
  id: string;
  name: string;
  resourceIds: string[];
  mode: PlayMode;
  /** SP boxes only: price to subscribe the whole box, in minor units of `currency`. */
  price?: number;
  currency?: string;
  /** Personal boxes only. */
  owner?: Identity;
  validityDays?: number;
  createdAt: string;
  updatedAt: string;
}

export type EntryOrigin = 'subscription' | 'box' | 'copy-online' | 'copy-offline' | 'gift';
export type EntryStatus = 'active' | 'expired' | 'cancelled';

export interface LibraryEntry {
  id: string;
  resourceId: string;
  origin: EntryOrigin;
  from?: Identity;
  boxId?: string;
  acquiredAt: string;
  expiresAt: string;
  autoRenew: boolean;
  status: EntryStatus;
  /** The charge that paid for this entry (or its last renewal). */
  chargeId?: string;
}

/** What a rule, or the default, presents: one resource or a box. */
export type PresentTarget = { resourceId: string } | { boxId: string };

export interface RuleConditions {
  callers?: Identity[];
  /** Local times "HH:MM"; `from` > `to` wraps midnight. */
  timeOfDay?: { from: string; to: string };
  /** 1 = Monday … 7 = Sunday (ISO). */
  daysOfWeek?: number[];
  /** Local dates "YYYY-MM-DD", both inclusive. */
  dateRange?: { from: string; to: string };
}

export interface PresentationRule {
  id: string;
  priority: number;
  enabled: boolean;
  conditions: RuleConditions;
  present: PresentTarget;
}

export interface FilterRule {
  id: string;
  categories?: string[];
  ratings?: Rating[];
  types?: ResourceType[];
  providers?: string[];
  /** Identities whose resources this user refuses to be presented. */
  owners?: Identity[];
}

export type Audience = 'everyone' | 'contacts' | 'nobody';

export interface Privacy {
  copy: Audience;
  contacts: Identity[];
  blocked: Identity[];
  gifts: Audience;
}

export interface Preferences {
  /** IANA time zone in which rules are evaluated. */
  timezone: string;
  default: PresentTarget | null;
  rules: PresentationRule[];
  filters: FilterRule[];
  privacy: Privacy;
}

export const DEFAULT_PRIVACY: Privacy = { copy: 'everyone', contacts: [], blocked: [], gifts: 'everyone' };

export function defaultPreferences(): Preferences {
  return { timezone: 'UTC', default: null, rules: [], filters: [], privacy: { ...DEFAULT_PRIVACY, contacts: [], blocked: [] } };
}

/** A registered CMR client (handset application or management client). */
export interface CmrClient {
  id: string;
  name: string;
  enabled: boolean;
  /** Lowest accepted version (semver). */
  minVersion: string;
  createdAt: string;
  updatedAt: string;
}

export type Channel = 'sip' | 'rest' | 'portal' | 'system';

export type CallState = 'early' | 'confirmed' | 'ended';

/** One resource as announced in signalling. */
export interface PresentedResource {
  resourceId: string;
  contentUri: string;
}

export interface PresentingSession {
  callId: string;
  /** From tag of the caller's INVITE: with the Call-ID it names the dialog. */
  fromTag: string;
  caller: Identity;
  called: Identity;
  /** Owned by the called party, presented to the caller. */
  toCaller: PresentedResource[];
  /** Owned by the caller, presented to the called party. */
  toCalled: PresentedResource[];
  state: CallState;
  startedAt: string;
  answeredAt?: string;
  endedAt?: string;
}

export type ActivityKind =
  | 'subscribe'
  | 'renew'
  | 'cancel'
  | 'expire'
  | 'update-entry'
  | 'box-subscribe'
  | 'box-define'
  | 'box-update'
  | 'box-delete'
  | 'copy-online'
  | 'copy-offline'
  | 'gift'
  | 'preferences'
  | 'privacy'
  | 'catalog'
  | 'client';

export type ActivityResult = 'success' | 'denied' | 'failed';

export interface ActivityRecord {
  id: string;
  at: string;
  /** The acting user, the SP as `sp:<its token's sub>`, or the server itself. */
  actor: Identity | `sp:${string}` | 'system';
  /** The user whose service data the activity concerns. */
  subject: Identity | null;
  kind: ActivityKind;
  channel: Channel;
  result: ActivityResult;
  chargeId: string | null;
  detail: Record<string, unknown>;
}

export interface ChargeRecord {
  id: string;
  at: string;
  subscriber: Identity;
  kind: ActivityKind;
  amount: number;
  currency: string;
  outcome: 'granted' | 'denied';
  mode: 'cdr' | 'nchf';
  resourceIds: string[];
  calling?: Identity;
  called?: Identity;
  reference?: string;
  /** Why the Charging Enabler refused (result code), for denied charges. */
  reason?: string;
  /** The activity this charge paid for. */
  activityId?: string;
}
