/** Catalog management (SP): add, edit and withdraw resources; the catalog's boxes. */
import { useState } from 'preact/hooks';
import { must } from '../../../api/client';
import { checkList, checkText, splitList, type FieldSchema } from '../../../api/fields';
import { CatalogBoxInput, ResourceInput } from '../../../api/schemas';
import { loadResources, type Box, type Resource } from '../catalog';
import { usePortal } from '../context';
import { Checklist, Field, Loading, money, Outcome, Page, Section, useAction, useLoad, type ActionState } from '../ui';

const TYPES = ['audio', 'video', 'image', 'text', 'multimedia'] as const;
const RATINGS = ['general', 'teen', 'mature'] as const;
const PRICES = ['subscribe', 'renew', 'copy', 'gift'] as const;
const R = ResourceInput.properties;

export function CatalogManagementPage() {
  const { api } = usePortal();
  const loaded = useLoad(async () => {
    const [resources, boxes] = await Promise.all([loadResources(api), must(api.GET('/v1/boxes'))]);
    return { resources, boxes };
  });
  const [editing, setEditing] = useState<Resource | null>(null);
  // Kept by the page: the message of a saved edit outlives the edit form it came from.
  const [saving, runSave] = useAction();
  return (
    <Page title="Catalog management">
      <Loading loaded={loaded}>
        {({ resources, boxes }) => (
          <>
            <Section title={editing ? `Edit ${editing.title}` : 'Add a resource'}>
              <ResourceForm
                key={editing?.id ?? 'new'}
                resource={editing}
                saving={saving}
                runSave={runSave}
                onDone={() => (setEditing(null), loaded.reload())}
                onCancel={editing ? () => setEditing(null) : undefined}
              />
              <Outcome state={saving} />
            </Section>
            <Section title="Resources">
              <ResourceTable resources={[...resources.values()]} onEdit={setEditing} onChanged={loaded.reload} />
            </Section>
            <BoxesSection boxes={boxes} resources={resources} onChanged={loaded.reload} />
          </>
        )}
      </Loading>
    </Page>
  );
}

type ResourceFields = Record<'id' | 'title' | 'contentUri' | 'mimeType' | 'durationSec' | 'categories' | 'provider' | 'validityDays' | 'currency' | (typeof PRICES)[number], string>;

function fieldsOf(resource: Resource | null): ResourceFields {
  return {
    id: resource?.id ?? '',
    title: resource?.title ?? '',
    contentUri: resource?.contentUri ?? 'https://',
    mimeType: resource?.mimeType ?? 'audio/mpeg',
    durationSec: resource?.durationSec !== undefined ? String(resource.durationSec) : '',
    categories: resource?.categories.join(', ') ?? '',
    provider: resource?.provider ?? '',
    validityDays: String(resource?.validityDays ?? 30),
    currency: resource?.prices.currency ?? 'EUR',
    subscribe: String(resource?.prices.subscribe ?? 0),
    renew: String(resource?.prices.renew ?? 0),
    copy: String(resource?.prices.copy ?? 0),
    gift: String(resource?.prices.gift ?? 0),
  };
}

interface ResourceFormProps {
  resource: Resource | null;
  saving: ActionState;
  runSave: (work: () => Promise<string | null>) => Promise<boolean>;
  onDone: () => void;
  onCancel?: () => void;
}

function ResourceForm({ resource, saving: state, runSave: run, onDone, onCancel }: ResourceFormProps) {
  const { api } = usePortal();
  const [fields, setFields] = useState(fieldsOf(resource));
  const [type, setType] = useState<Resource['type']>(resource?.type ?? 'audio');
  const [rating, setRating] = useState<Resource['rating']>(resource?.rating ?? 'general');
  const [copyable, setCopyable] = useState(resource?.copyable ?? true);
  const [errors, setErrors] = useState<Partial<Record<keyof ResourceFields, string | null>>>({});
  const set = (name: keyof ResourceFields) => (e: Event) => setFields({ ...fields, [name]: (e.currentTarget as HTMLInputElement).value });

  const submit = (event: Event) => {
    event.preventDefault();
    const categories = splitList(fields.categories);
    const found: Partial<Record<keyof ResourceFields, string | null>> = {
      id: fields.id && !resource ? checkText(R.id, fields.id) : null,
      title: checkText(R.title, fields.title),
      contentUri: checkText(R.contentUri, fields.contentUri),
      mimeType: checkText(R.mimeType, fields.mimeType),
      durationSec: fields.durationSec ? checkText(R.durationSec, fields.durationSec) : null,
      categories: checkList(R.categories, categories),
      provider: checkText(R.provider, fields.provider),
      validityDays: checkText(R.validityDays, fields.validityDays),
      currency: checkText(R.prices.properties.currency, fields.currency),
      ...Object.fromEntries(PRICES.map((p) => [p, checkText(R.prices.properties[p], fields[p])])),
    };
    setErrors(found);
    if (Object.values(found).some(Boolean)) return;
    const body = {
      title: fields.title,
      type,
      contentUri: fields.contentUri,
      mimeType: fields.mimeType,
      ...(fields.durationSec ? { durationSec: Number(fields.durationSec) } : {}),
      categories,
      rating,
      provider: fields.provider,
      copyable,
      validityDays: Number(fields.validityDays),
      prices: { subscribe: Number(fields.subscribe), renew: Number(fields.renew), copy: Number(fields.copy), gift: Number(fields.gift), currency: fields.currency },
    };
    void run(async () => {
      const saved = resource
        ? await must(api.PUT('/v1/resources/{id}', { params: { path: { id: resource.id } }, body: { ...body, status: resource.status } }))
        : await must(api.POST('/v1/resources', { body: { ...(fields.id ? { id: fields.id } : {}), ...body } }));
      if (!resource) setFields(fieldsOf(null));
      onDone();
      return `${resource ? 'Saved' : 'Added'} ${saved.title} (${saved.id}).`;
    });
  };

  const text = (name: keyof ResourceFields, label: string, schema: FieldSchema, hint?: string, inputMode?: 'numeric') => (
    <Field label={label} error={errors[name] ? `${label} ${errors[name]}` : null} hint={hint}>
      {(props) => <input {...props} type="text" inputMode={inputMode} maxLength={schema.maxLength} value={fields[name]} onInput={set(name)} />}
    </Field>
  );

  return (
    <form class="card form-grid two" onSubmit={submit} noValidate>
      {!resource && text('id', 'ID', R.id, 'Optional: made up when empty')}
      {text('title', 'Title', R.title)}
      <Field label="Type">
        {(props) => (
          <select {...props} value={type} onChange={(e) => setType(e.currentTarget.value as Resource['type'])}>
            {TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        )}
      </Field>
      {text('contentUri', 'Content URI', R.contentUri)}
      {text('mimeType', 'MIME type', R.mimeType)}
      {text('durationSec', 'Duration (seconds)', R.durationSec, 'Optional', 'numeric')}
      {text('categories', 'Categories', R.categories, 'Comma-separated')}
      <Field label="Rating">
        {(props) => (
          <select {...props} value={rating} onChange={(e) => setRating(e.currentTarget.value as Resource['rating'])}>
            {RATINGS.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        )}
      </Field>
      {text('provider', 'Provider', R.provider)}
      {text('validityDays', 'Validity (days)', R.validityDays, 'How long a subscription lasts', 'numeric')}
      {text('currency', 'Currency', R.prices.properties.currency, 'ISO 4217, e.g. EUR')}
      {PRICES.map((p) => text(p, `${p[0]!.toUpperCase()}${p.slice(1)} price`, R.prices.properties[p], 'Minor units: 199 is 1.99', 'numeric'))}
      <label class="check">
        <input type="checkbox" checked={copyable} onChange={(e) => setCopyable(e.currentTarget.checked)} /> Copyable (the licence allows copying)
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={state.busy}>
          {resource ? 'Save resource' : 'Add resource'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel edit
          </button>
        )}
      </div>
    </form>
  );
}

function ResourceTable({ resources, onEdit, onChanged }: { resources: Resource[]; onEdit: (r: Resource) => void; onChanged: () => void }) {
  const { api } = usePortal();
  const [state, run] = useAction();
  const withdraw = (r: Resource) =>
    run(async () => {
      await must(api.DELETE('/v1/resources/{id}', { params: { path: { id: r.id } } }));
      onChanged();
      return `Withdrew ${r.title}: it is no longer presented, subscribed or copied.`;
    });
  return (
    <>
      <Outcome state={state} />
      <div class="table-wrap">
        <table class="stack">
          <caption class="visually-hidden">Catalog resources</caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Type</th>
              <th scope="col">Price</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {resources.map((r) => (
              <tr key={r.id}>
                <td data-label="Title">
                  {r.title} <span class="muted mono">{r.id}</span>
                </td>
                <td data-label="Type">{r.type}</td>
                <td data-label="Price">{money(r.prices.subscribe, r.prices.currency)}</td>
                <td data-label="Status">{r.status}</td>
                <td class="actions">
                  <button type="button" onClick={() => onEdit(r)} aria-label={`Edit ${r.title}`}>
                    Edit
                  </button>
                  <button type="button" class="danger" disabled={r.status === 'withdrawn' || state.busy} onClick={() => withdraw(r)} aria-label={`Withdraw ${r.title}`}>
                    Withdraw
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

const B = CatalogBoxInput.properties;

function BoxesSection({ boxes, resources, onChanged }: { boxes: Box[]; resources: Map<string, Resource>; onChanged: () => void }) {
  const [editing, setEditing] = useState<Box | null>(null);
  // A new form after each save, so an added box's values do not stay in it.
  const [saved, setSaved] = useState(0);
  const [saving, runSave] = useAction();
  const { api } = usePortal();
  const [state, run] = useAction();
  const remove = (box: Box) =>
    run(async () => {
      await must(api.DELETE('/v1/boxes/{boxId}', { params: { path: { boxId: box.id } } }));
      onChanged();
      return `Removed the box ${box.name}.`;
    });
  return (
    <Section title="Boxes">
      <ul class="rules">
        {boxes.map((box) => (
          <li key={box.id} class="card rule">
            <span>
              <strong>{box.name}</strong> ({box.mode}): {box.resourceIds.map((id) => resources.get(id)?.title ?? id).join(', ')} ·{' '}
              {box.price !== undefined && box.currency ? money(box.price, box.currency) : ''}
            </span>
            <span class="actions">
              <button type="button" onClick={() => setEditing(box)} aria-label={`Edit box ${box.name}`}>
                Edit
              </button>
              <button type="button" class="danger" disabled={state.busy} onClick={() => remove(box)} aria-label={`Delete box ${box.name}`}>
                Delete
              </button>
            </span>
          </li>
        ))}
      </ul>
      <Outcome state={state} />
      <details class="card" open={editing !== null}>
        <summary>{editing ? `Edit the box ${editing.name}` : 'Add a box'}</summary>
        <BoxForm
          key={editing?.id ?? `new-${saved}`}
          box={editing}
          resources={resources}
          saving={saving}
          runSave={runSave}
          onDone={() => (setEditing(null), setSaved((n) => n + 1), onChanged())}
        />
        <Outcome state={saving} />
      </details>
    </Section>
  );
}

interface BoxFormProps {
  box: Box | null;
  resources: Map<string, Resource>;
  saving: ActionState;
  runSave: ResourceFormProps['runSave'];
  onDone: () => void;
}

function BoxForm({ box, resources, saving: state, runSave: run, onDone }: BoxFormProps) {
  const { api } = usePortal();
  const [fields, setFields] = useState({
    id: box?.id ?? '',
    name: box?.name ?? '',
    price: String(box?.price ?? 0),
    currency: box?.currency ?? 'EUR',
    validityDays: String(box?.validityDays ?? 30),
  });
  const [mode, setMode] = useState<Box['mode']>(box?.mode ?? 'sequential');
  const [chosen, setChosen] = useState<string[]>(box?.resourceIds ?? []);
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const set = (name: keyof typeof fields) => (e: Event) => setFields({ ...fields, [name]: (e.currentTarget as HTMLInputElement).value });

  const submit = (event: Event) => {
    event.preventDefault();
    const found = {
      id: fields.id && !box ? checkText(B.id, fields.id) : null,
      name: checkText(B.name, fields.name),
      resources: checkList(B.resourceIds, chosen),
      price: checkText(B.price, fields.price),
      currency: checkText(B.currency, fields.currency),
      validityDays: checkText(B.validityDays, fields.validityDays),
    };
    setErrors(found);
    if (Object.values(found).some(Boolean)) return;
    const body = { name: fields.name, resourceIds: chosen, mode, price: Number(fields.price), currency: fields.currency, validityDays: Number(fields.validityDays) };
    void run(async () => {
      const saved = box
        ? await must(api.PUT('/v1/boxes/{boxId}', { params: { path: { boxId: box.id } }, body }))
        : await must(api.POST('/v1/boxes', { body: { ...(fields.id ? { id: fields.id } : {}), ...body } }));
      onDone();
      return `${box ? 'Saved' : 'Added'} the box ${saved.name}.`;
    });
  };
  const text = (name: keyof typeof fields, label: string, hint?: string) => (
    <Field label={label} error={errors[name] ? `${label} ${errors[name]}` : null} hint={hint}>
      {(props) => <input {...props} type="text" value={fields[name]} onInput={set(name)} />}
    </Field>
  );
  return (
    <form class="form-grid two" onSubmit={submit} noValidate>
      {!box && text('id', 'Box ID', 'Optional')}
      {text('name', 'Name')}
      <Checklist
        legend="Resources, in play order"
        options={[...resources.values()].map((r) => ({ value: r.id, label: r.title }))}
        chosen={chosen}
        onChange={setChosen}
        error={errors['resources'] && `Resources ${errors['resources']}`}
      />
      <Field label="Mode">
        {(props) => (
          <select {...props} value={mode} onChange={(e) => setMode(e.currentTarget.value as Box['mode'])}>
            <option value="sequential">sequential</option>
            <option value="random">random</option>
          </select>
        )}
      </Field>
      {text('price', 'Box price', 'Minor units')}
      {text('currency', 'Box currency')}
      {text('validityDays', 'Box validity (days)')}
      <button type="submit" class="primary" disabled={state.busy}>
        {box ? 'Save box' : 'Add box'}
      </button>
    </form>
  );
}
