/** Clients (SP): the registry of CMR clients, switched on or off, with their minimum version. */
import { useState } from 'preact/hooks';
import { must, type Schemas } from '../../../api/client';
import { checkText } from '../../../api/fields';
import { ClientInput } from '../../../api/schemas';
import { usePortal } from '../context';
import { Field, Loading, Outcome, Page, Section, Switch, useAction, useLoad } from '../ui';

type Client = Schemas['Client'];
const C = ClientInput.properties;

export function ClientsPage() {
  const { api } = usePortal();
  const loaded = useLoad(() => must(api.GET('/v1/clients')));
  return (
    <Page title="Clients">
      <Loading loaded={loaded}>
        {(clients) => (
          <Section title="Registered clients">
            {clients.length === 0 && <p>No client is registered: online copies are refused until one is.</p>}
            <ul class="cards">
              {clients.map((client) => (
                <ClientCard key={client.id} client={client} onChanged={loaded.reload} />
              ))}
            </ul>
          </Section>
        )}
      </Loading>
      <Section title="Register a client">
        <RegisterClient onDone={loaded.reload} />
      </Section>
    </Page>
  );
}

function ClientCard({ client, onChanged }: { client: Client; onChanged: () => void }) {
  const { api } = usePortal();
  const [state, run] = useAction();
  const [minVersion, setMinVersion] = useState(client.minVersion);
  const [error, setError] = useState<string | null>(null);
  const headingId = `client-${client.id}`;
  const save = (changes: Partial<Client>, message: string) =>
    run(async () => {
      await must(api.PUT('/v1/clients/{id}', { params: { path: { id: client.id } }, body: { name: client.name, enabled: client.enabled, minVersion: client.minVersion, ...changes } }));
      onChanged();
      return message;
    });
  const saveVersion = (event: Event) => {
    event.preventDefault();
    const problem = checkText(C.minVersion, minVersion);
    setError(problem && `Minimum version ${problem}`);
    if (!problem) void save({ minVersion }, `${client.name} now needs version ${minVersion} or later.`);
  };
  return (
    <li class="card" aria-labelledby={headingId}>
      <h3 id={headingId} class="card-title">
        {client.name} <span class="muted mono">{client.id}</span>
      </h3>
      <Switch label="Enabled" of={client.name} checked={client.enabled} disabled={state.busy} onChange={(enabled) => save({ enabled }, `${client.name} is ${enabled ? 'enabled' : 'disabled'}.`)} />
      <form class="inline-form" onSubmit={saveVersion} noValidate>
        <Field label="Minimum version" error={error}>
          {(props) => <input {...props} type="text" value={minVersion} onInput={(e) => setMinVersion(e.currentTarget.value)} />}
        </Field>
        <button type="submit" disabled={state.busy} aria-label={`Save the minimum version of ${client.name}`}>
          Save
        </button>
      </form>
      <Outcome state={state} />
    </li>
  );
}

function RegisterClient({ onDone }: { onDone: () => void }) {
  const { api } = usePortal();
  const [state, run] = useAction();
  const [fields, setFields] = useState({ id: '', name: '', minVersion: '1.0.0' });
  const [enabled, setEnabled] = useState(true);
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const submit = (event: Event) => {
    event.preventDefault();
    const found = { id: checkText(C.id, fields.id), name: checkText(C.name, fields.name), minVersion: checkText(C.minVersion, fields.minVersion) };
    setErrors(found);
    if (Object.values(found).some(Boolean)) return;
    void run(async () => {
      const client = await must(api.POST('/v1/clients', { body: { ...fields, enabled } }));
      setFields({ id: '', name: '', minVersion: '1.0.0' });
      onDone();
      return `Registered ${client.name} (${client.id}).`;
    });
  };
  const text = (name: keyof typeof fields, label: string, hint?: string) => (
    <Field label={label} error={errors[name] ? `${label} ${errors[name]}` : null} hint={hint}>
      {(props) => <input {...props} type="text" value={fields[name]} onInput={(e) => setFields({ ...fields, [name]: e.currentTarget.value })} />}
    </Field>
  );
  return (
    <form class="card form-grid two" onSubmit={submit} noValidate>
      {text('id', 'Client ID', 'As the client sends it in copy requests')}
      {text('name', 'Name')}
      {text('minVersion', 'Lowest accepted version', 'Semantic version, e.g. 2.1.0')}
      <Switch label="Enabled" checked={enabled} onChange={setEnabled} />
      <button type="submit" class="primary" disabled={state.busy}>
        Register client
      </button>
      <Outcome state={state} />
    </form>
  );
}
