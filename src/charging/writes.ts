/**
 * The writes a charged action applies to a user's service data, as plain data.
 *
 * An applier (registered by command type) reads what it needs and returns these writes; one Lua
 * script then applies all of them together with the charge record, the activity record, the
 * outbox entry and the idempotency answer. A write "based on" the version it read is applied only
 * if that version is still the stored one; otherwise the applier is run again on fresh data.
 */
import type { Identity } from '../domain/identity.js';
import type { Box, LibraryEntry, Preferences } from '../domain/types.js';

export interface Collections {
  library: LibraryEntry;
  boxes: Box;
}
export type Collection = keyof Collections;

/** A document as read, with the exact stored text (`raw`, null when absent) to write against. */
export interface Versioned<T> {
  doc: T | null;
  raw: string | null;
}

export type Write =
  /** Adds the document unless one with its id exists (then nothing happens: the write is idempotent). */
  | { op: 'create'; collection: Collection; doc: Collections[Collection]; user?: Identity }
  /** Stores the document; with `basedOn`, only if the stored one is still that version. */
  | { op: 'replace'; collection: Collection; doc: Collections[Collection]; basedOn?: Versioned<unknown> }
  | { op: 'delete'; collection: Collection; id: string; basedOn?: Versioned<unknown> }
  | { op: 'preferences'; doc: Preferences; basedOn?: Versioned<unknown> };

/** Builders, so appliers read like the domain. */
export const writes = {
  /** Adds `doc` to a collection of the action's user, or of `user` (e.g. a gift's receiver). */
  create<C extends Collection>(collection: C, doc: Collections[C], user?: Identity): Write {
    return user ? { op: 'create', collection, doc, user } : { op: 'create', collection, doc };
  },
  replace<C extends Collection>(collection: C, doc: Collections[C], basedOn?: Versioned<Collections[C]>): Write {
    return basedOn ? { op: 'replace', collection, doc, basedOn } : { op: 'replace', collection, doc };
  },
  remove(collection: Collection, id: string, basedOn?: Versioned<unknown>): Write {
    return basedOn ? { op: 'delete', collection, id, basedOn } : { op: 'delete', collection, id };
  },
  preferences(doc: Preferences, basedOn?: Versioned<Preferences>): Write {
    return basedOn ? { op: 'preferences', doc, basedOn } : { op: 'preferences', doc };
  },
};

/** What an applier may read: the action's user's data, versioned. */
export interface ApplyContext {
  user: Identity;
  /** The action's charge id (null when nothing was charged). */
  chargeId: string | null;
  /** When the action was asked (stable across a re-run after a restart). */
  at: string;
  read<C extends Collection>(collection: C, id: string): Promise<Versioned<Collections[C]>>;
  readPreferences(): Promise<Versioned<Preferences>>;
}

/** Turns a command's JSON arguments into writes. Deterministic for the same data: it may run again. */
export type Applier<A> = (args: A, context: ApplyContext) => Promise<Write[]> | Write[];

/** `library.add`: adds entries (ids chosen by the caller, so a re-run adds nothing twice). */
export interface LibraryAddArgs {
  entries: LibraryEntry[];
  /** The user whose library receives them, when not the action's user (a gift). */
  to?: Identity;
}

/** `library.update`: changes fields of one entry (e.g. `expiresAt` on renewal); no-op if it is gone. */
export interface LibraryUpdateArgs {
  entryId: string;
  set: Partial<Omit<LibraryEntry, 'id'>>;
}

export const builtInAppliers = {
  'library.add': ((args: LibraryAddArgs) => args.entries.map((entry) => writes.create('library', entry, args.to))) as Applier<LibraryAddArgs>,
  'library.update': (async (args: LibraryUpdateArgs, context: ApplyContext) => {
    const current = await context.read('library', args.entryId);
    if (!current.doc) return [];
    return [writes.replace('library', { ...current.doc, ...args.set, id: args.entryId }, current)];
  }) as Applier<LibraryUpdateArgs>,
  /** `writes`: applies the given writes as they are (for actions whose writes need no fresh read). */
  writes: ((args: Write[]) => args) as Applier<Write[]>,
};
