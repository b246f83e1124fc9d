/**
 * The portal's building blocks: a page headed by its name, loading and action state with their
 * messages (a status for what happened, an alert for what went wrong, always the server's words),
 * labelled fields with their error text, amounts of money and paged tables.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import type { Schemas } from '../../api/client';

export function Page({ title, children, site = 'CMR Portal' }: { title: string; children: ComponentChildren; site?: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · ${site}`;
    // A screen reader lands on the new page's heading after following a link.
    heading.current?.focus();
  }, [title]);
  return (
    <main id="main" class="page">
      <h1 tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children}
    </main>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const id = useId();
  return (
    <section class="section" aria-labelledby={id}>
      <div class="section-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export type Loaded<T> = { data: T | undefined; error: string | null; loading: boolean; reload: () => void };

/** Loads with `load` now and whenever `reload` is called; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (err: Error) => current && setState((s) => ({ data: s.data, error: err.message, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [round, ...deps]);
  return { ...state, reload: useCallback(() => setRound((r) => r + 1), []) };
}

/** Shows what is loading, or why it failed; the children once there is data. */
export function Loading<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.error && loaded.data === undefined) return <Alert message={`Could not load: ${loaded.error}`} />;
  if (loaded.data === undefined) return <p class="muted" role="status">Loading…</p>;
  return (
    <>
      {loaded.error && <Alert message={`Could not refresh: ${loaded.error}`} />}
      {children(loaded.data)}
    </>
  );
}

export type ActionState = { busy: boolean; message: string | null; error: string | null };

/**
 * One user action at a time: `run` calls the API and shows the message it answers (e.g. the
 * charge) or the error's words; the message lives beside the control that started it.
 */
export function useAction(): [ActionState, (work: () => Promise<string | null>) => Promise<boolean>, () => void] {
  const [state, setState] = useState<ActionState>({ busy: false, message: null, error: null });
  const run = useCallback(async (work: () => Promise<string | null>) => {
    setState({ busy: true, message: null, error: null });
    try {
      const message = await work();
      setState({ busy: false, message, error: null });
      return true;
    } catch (err) {
      setState({ busy: false, message: null, error: (err as Error).message });
      return false;
    }
  }, []);
  const clear = useCallback(() => setState({ busy: false, message: null, error: null }), []);
  return [state, run, clear];
}

export function Outcome({ state }: { state: ActionState }) {
  return (
    <>
      <p class="status" role="status">
        {state.message}
      </p>
      {state.error && <Alert message={state.error} />}
    </>
  );
}

export function Alert({ message }: { message: string }) {
  return (
    <p class="alert" role="alert">
      {message}
    </p>
  );
}

interface FieldProps {
  label: string;
  error?: string | null;
  hint?: string;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => JSX.Element;
}

/** A label, its control and the control's error text, tied together for assistive technology. */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), ...(described ? { 'aria-describedby': described } : {}) })}
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} class="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

/** A group of checkboxes choosing some of `options`, in the order they are ticked. */
export function Checklist<T extends string | number>({ legend, options, chosen, onChange, error }: {
  legend: string;
  options: Array<{ value: T; label: string }>;
  chosen: T[];
  onChange: (chosen: T[]) => void;
  error?: string | null;
}) {
  return (
    <fieldset class="days">
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option.value}>
          <input
            type="checkbox"
            checked={chosen.includes(option.value)}
            onChange={(e) => onChange(e.currentTarget.checked ? [...chosen, option.value] : chosen.filter((v) => v !== option.value))}
          />
          {option.label}
        </label>
      ))}
      {error && <small class="field-error">{error}</small>}
    </fieldset>
  );
}

/** One item of a list the user can delete from: what it is, and its Delete button. */
export function RemovableItem({ children, name, busy, onRemove }: { children: ComponentChildren; name: string; busy: boolean; onRemove: () => void }) {
  return (
    <li class="card rule">
      <span>{children}</span>
      <button type="button" class="danger" disabled={busy} onClick={onRemove} aria-label={`Delete ${name}`}>
        Delete
      </button>
    </li>
  );
}

/** A checkbox presented as an on/off switch; `of` names what it switches for screen readers when the card around it shows it already. */
export function Switch({ label, of, checked, disabled, onChange }: { label: string; of?: string; checked: boolean; disabled?: boolean; onChange: (on: boolean) => void }) {
  return (
    <label class="switch">
      <input type="checkbox" role="switch" checked={checked} disabled={disabled} onChange={(e) => onChange(e.currentTarget.checked)} />
      <span>
        {label}
        {of && <span class="visually-hidden"> {of}</span>}
      </span>
    </label>
  );
}

const formats = new Map<string, Intl.NumberFormat>();
function currencyFormat(currency: string): Intl.NumberFormat {
  let format = formats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    formats.set(currency, format);
  }
  return format;
}

/** An amount in minor units with its currency (ISO 4217), e.g. 199 EUR → €1.99. */
export function money(amount: number, currency: string): string {
  if (currency === 'XXX') return amount === 0 ? 'free' : `${amount} (no currency)`;
  try {
    const format = currencyFormat(currency);
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency}`;
  }
}

type Charge = { id: string; amount: number; currency: string } | null;

/** The charge of an action, in words: what it cost, or that it was free or changed nothing (the Charges page has its id). */
export function chargeText(charge: Charge): string {
  if (!charge) return 'nothing changed, nothing charged';
  if (charge.amount === 0) return 'no charge';
  return `charged ${money(charge.amount, charge.currency)}`;
}

export const dateTime = (iso: string | undefined | null): string => (iso ? new Date(iso).toLocaleString() : '—');
export const date = (iso: string | undefined | null): string => (iso ? new Date(iso).toLocaleDateString() : '—');

/** Older pages of a newest-first history, one "Older" click at a time. */
export function usePaged<T>(loadPage: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>, deps: unknown[] = []) {
  const [pages, setPages] = useState<{ items: T[]; next: string | null; error: string | null; loading: boolean }>({ items: [], next: null, error: null, loading: true });
  const load = useCallback(
    async (cursor: string | undefined, append: boolean) => {
      setPages((p) => ({ ...p, loading: true }));
      try {
        const page = await loadPage(cursor);
        setPages((p) => ({ items: append ? [...p.items, ...page.items] : page.items, next: page.next, error: null, loading: false }));
      } catch (err) {
        setPages((p) => ({ ...p, error: (err as Error).message, loading: false }));
      }
    },
    deps,
  );
  useEffect(() => {
    void load(undefined, false);
  }, [load]);
  return { ...pages, older: () => pages.next && load(pages.next, true), refresh: () => load(undefined, false) };
}

export function PagedFooter({ paged }: { paged: { next: string | null; loading: boolean; error: string | null; older: () => unknown } }) {
  return (
    <div class="pager">
      {paged.error && <Alert message={paged.error} />}
      {paged.loading && <span role="status">Loading…</span>}
      {paged.next && !paged.loading && (
        <button type="button" onClick={() => paged.older()}>
          Older
        </button>
      )}
    </div>
  );
}

export type Resource = Schemas['Resource'];

/** A player for audio, a preview for images and video, from the resource's content URI. */
export function MediaPreview({ resource }: { resource: Pick<Resource, 'type' | 'contentUri' | 'title' | 'mimeType'> }) {
  if (resource.type === 'audio') return <audio class="media" controls preload="none" src={resource.contentUri} aria-label={`Listen to ${resource.title}`} />;
  if (resource.type === 'video') return <video class="media" controls preload="none" src={resource.contentUri} aria-label={`Watch ${resource.title}`} />;
  if (resource.type === 'image') return <img class="media" src={resource.contentUri} alt={`Preview of ${resource.title}`} loading="lazy" />;
  return (
    <a href={resource.contentUri} target="_blank" rel="noreferrer noopener">
      Open {resource.title}
    </a>
  );
}
