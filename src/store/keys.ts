/**
 * Every Redis key the server uses, in one place.
 *
 * Keys of one user carry the user's identity as a hash tag (`{tel:+1555…}`), so every
 * multi-key write for one user lands on one Redis Cluster slot and can run in one script or
 * MULTI. Shared data (catalog, client registry, global feeds) has its own fixed tag.
 * `namespace` lets tests, or several deployments, share one Redis without meeting.
 */
import type { Identity } from '../domain/identity.js';

/** What a user's slot of keys belongs to: a user, or the SP (`sp:<sub>`) for its own idempotency keys. */
export type KeyScope = Identity | `sp:${string}`;

export class Keys {
  constructor(readonly namespace: string) {}

  // ── catalog and registry (SP data, one slot) ─────────────────────────────
  get resources(): string {
    return `${this.namespace}:{catalog}:resources`;
  }
  get catalogBoxes(): string {
    return `${this.namespace}:{catalog}:boxes`;
  }
  get clients(): string {
    return `${this.namespace}:{catalog}:clients`;
  }

  // ── one user's data (hash-tagged by identity) ────────────────────────────
  user(uid: KeyScope): UserKeys {
    return new UserKeys(`${this.namespace}:{${uid}}`);
  }

  // ── calls: one presenting session per Call-ID (tagged by Call-ID) ────────
  callSession(callId: string): string {
    return `${this.namespace}:{call:${callId}}:session`;
  }
  /** Sorted set of the Call-IDs of live calls that present something, scored by their latest possible end. */
  get presentingCalls(): string {
    return `${this.namespace}:{calls}:presenting`;
  }
  /** The embedded front's registrar: JSON binding of a registered identity to its flow (expiring with it). */
  sipBinding(identity: Identity): string {
    return `${this.namespace}:{${identity}}:sip-binding`;
  }
  /** The identity registered from a flow (a connection, or a UDP address), for the requests that come on it. */
  sipBindingSource(source: string): string {
    return `${this.namespace}:{flow:${source}}:registered`;
  }
  /** The drachtio front's record of the called party's early dialog, while the call rings. */
  calledPartyEarlyDialog(callId: string): string {
    return `${this.namespace}:{call:${callId}}:called-early-dialog`;
  }

  // ── charging and activity feeds ──────────────────────────────────────────
  get chargesAll(): string {
    return `${this.namespace}:{charges}:all`;
  }
  get chargeSequence(): string {
    return `${this.namespace}:{charges}:sequence`;
  }
  /** Hash chargeId → JSON charge record, beside the `chargesAll` index. */
  get chargeRecords(): string {
    return `${this.namespace}:{charges}:records`;
  }
  get activityStream(): string {
    return `${this.namespace}:{activity}:stream`;
  }
  /**
   * Sorted set of `[uid, id]` (JSON) naming a user's pending charged action or undelivered outbox
   * entry, scored by the time the recoverer should look at it.
   */
  get pendingApplies(): string {
    return `${this.namespace}:{pending}:applies`;
  }
  /** Marker that an outbox entry already reached the global activity stream (deduplication). */
  activitySeen(eventId: string): string {
    return `${this.namespace}:{activity}:seen:${eventId}`;
  }
  /** Pub/sub channel announcing that an action of `uid` was settled (answers stored, locks freed). */
  settledChannel(uid: KeyScope): string {
    return `${this.namespace}:settled:${uid}`;
  }
  lock(name: string): string {
    return `${this.namespace}:{lock}:${name}`;
  }
  /** Sorted set of (user, entry) due for expiry or renewal, scored by time. */
  get expiryIndex(): string {
    return `${this.namespace}:{expiry}:entries`;
  }
}

export class UserKeys {
  constructor(private readonly base: string) {}

  /** JSON: preferences incl. privacy and timezone. */
  get preferences(): string {
    return `${this.base}:prefs`;
  }
  /** Hash entryId → JSON library entry. */
  get library(): string {
    return `${this.base}:library`;
  }
  /** Hash boxId → JSON personal box. */
  get boxes(): string {
    return `${this.base}:boxes`;
  }
  /** Sorted set of Call-IDs of live or grace-period calls, scored by expiry time. */
  get calls(): string {
    return `${this.base}:calls`;
  }
  /**
   * Counter moved on by every write to the user's preferences, library or boxes, in the same
   * script or transaction as the write: an instance may keep what it read while this is unchanged.
   */
  get dataVersion(): string {
    return `${this.base}:version`;
  }
  /** Counter moved on by every call of the user: the rotation position of sequential boxes. */
  get rotation(): string {
    return `${this.base}:rotation`;
  }
  /** Sorted set of charge ids by time, and a hash id → JSON record. */
  get chargeIndex(): string {
    return `${this.base}:charges:index`;
  }
  get charges(): string {
    return `${this.base}:charges`;
  }
  get activities(): string {
    return `${this.base}:activities`;
  }
  /** Hash chargeId → JSON intent of a charged action not yet settled. */
  get intents(): string {
    return `${this.base}:intents`;
  }
  /** Hash id → JSON entry waiting to be relayed to the global feeds (transactional outbox). */
  get outbox(): string {
    return `${this.base}:outbox`;
  }
  /** Marker that a relayed write from another user's action was applied here (deduplication). */
  relayed(id: string): string {
    return `${this.base}:relayed:${id}`;
  }
  /** Stored answer of a request made with an idempotency key (REST) or SIP dialog+CSeq. */
  idempotency(key: string): string {
    return `${this.base}:idem:${key}`;
  }
  lock(name: string): string {
    return `${this.base}:lock:${name}`;
  }
}
