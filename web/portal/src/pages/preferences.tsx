/**
 * Preferences: the time zone, the default presented to callers, presentation rules (add, edit,
 * delete, reorder by priority), filter rules, and a preview of what a call would present now.
 */
import { useState } from 'preact/hooks';
import { idempotencyKey, must, type Answer, type Schemas } from '../../../api/client';
import { checkIdentity, checkList, checkText, limitsOf, splitList, timeZoneProblem } from '../../../api/fields';
import { FilterInput, PersonalBoxInput, RuleInput, TimezoneBody } from '../../../api/schemas';
import { isActive, loadResources, own, titleOf, type Box, type Resource } from '../catalog';
import { usePortal, type Portal } from '../context';
import { Alert, chargeText, Checklist, Field, Loading, MediaPreview, Outcome, Page, RemovableItem, Section, Switch, useAction, useLoad } from '../ui';

type Prefs = Answer<'/v1/users/{uid}/preferences', 'get'>;
type Rule = Prefs['rules'][number];
type Filter = Prefs['filters'][number];
type Target = NonNullable<Prefs['default']>;

interface Choices {
  resources: Map<string, Resource>;
  /** Resources the user holds actively: what a personal box may be made of. */
  held: string[];
  personal: Box[];
  /** What a rule or the default may present: held resources, own boxes, subscribed catalog boxes. */
  targets: Array<{ value: string; label: string }>;
}

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const conditionSchema = RuleInput.properties.conditions.properties;

const targetValue = (target: Target | null | undefined): string =>
  !target ? '' : 'resourceId' in target ? `resource:${target.resourceId}` : `box:${target.boxId}`;
const targetOf = (value: string): Target | null => {
  if (value.startsWith('resource:')) return { resourceId: value.slice('resource:'.length) };
  if (value.startsWith('box:')) return { boxId: value.slice('box:'.length) };
  return null;
};
const withKey = (portal: Portal) => ({ ...own(portal), header: { 'idempotency-key': idempotencyKey() } });

async function loadPreferences(portal: Portal) {
  const { api } = portal;
  const [preferences, library, personal, catalogBoxes, resources] = await Promise.all([
    must(api.GET('/v1/users/{uid}/preferences', { params: own(portal) })),
    must(api.GET('/v1/users/{uid}/library', { params: { ...own(portal), query: { status: 'active' } } })),
    must(api.GET('/v1/users/{uid}/boxes', { params: own(portal) })),
    must(api.GET('/v1/boxes')),
    loadResources(api),
  ]);
  const held = [...new Set(library.filter(isActive).map((e) => e.resourceId))];
  const subscribedBoxes = new Set(library.filter((e) => isActive(e) && e.boxId).map((e) => e.boxId));
  const boxes: Box[] = [...personal, ...catalogBoxes.filter((b) => subscribedBoxes.has(b.id))];
  const targets = [
    ...held.map((id) => ({ value: `resource:${id}`, label: titleOf(resources, id) })),
    ...boxes.map((b) => ({ value: `box:${b.id}`, label: `Box: ${b.name}` })),
  ];
  return { preferences, choices: { resources, held, personal, targets } satisfies Choices };
}

export function PreferencesPage() {
  const portal = usePortal();
  const loaded = useLoad(() => loadPreferences(portal));
  return (
    <Page title="Preferences">
      <Loading loaded={loaded}>
        {({ preferences, choices }) => (
          <>
            <TimezoneSection timezone={preferences.timezone} onChanged={loaded.reload} />
            <DefaultSection preferences={preferences} choices={choices} onChanged={loaded.reload} />
            <RulesSection rules={preferences.rules} choices={choices} onChanged={loaded.reload} timezone={preferences.timezone} />
            <PersonalBoxesSection choices={choices} onChanged={loaded.reload} />
            <FiltersSection filters={preferences.filters} onChanged={loaded.reload} />
            {/* A preview made before a change no longer says what a call would present: it starts afresh. */}
            <PreviewSection key={JSON.stringify(preferences)} resources={choices.resources} />
          </>
        )}
      </Loading>
    </Page>
  );
}

function TargetSelect({ label, value, onChange, choices, allowNone }: { label: string; value: string; onChange: (v: string) => void; choices: Choices; allowNone: boolean }) {
  return (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          {allowNone ? <option value="">Nothing (the network's ringback)</option> : <option value="">Choose a resource or box</option>}
          {choices.targets.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function DefaultSection({ preferences, choices, onChanged }: { preferences: Prefs; choices: Choices; onChanged: () => void }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const [value, setValue] = useState(targetValue(preferences.default));
  const submit = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const answer = await must(portal.api.PUT('/v1/users/{uid}/preferences/default', { params: withKey(portal), body: targetOf(value) }));
      onChanged();
      const label = choices.targets.find((t) => t.value === targetValue(answer.default))?.label ?? 'nothing';
      return `Callers are now presented ${label} by default: ${chargeText(answer.charge)}.`;
    });
  };
  return (
    <Section title="Default">
      <form class="card form-grid" onSubmit={submit}>
        <TargetSelect label="Presented when no rule matches" value={value} onChange={setValue} choices={choices} allowNone />
        <button type="submit" class="primary" disabled={state.busy}>
          Set default
        </button>
        <Outcome state={state} />
      </form>
    </Section>
  );
}

function describeRule(rule: Rule): string {
  const c = rule.conditions;
  const parts: string[] = [];
  if (c.callers?.length) parts.push(`calls from ${c.callers.join(', ')}`);
  if (c.timeOfDay) parts.push(`${c.timeOfDay.from}–${c.timeOfDay.to}`);
  if (c.daysOfWeek?.length) parts.push(c.daysOfWeek.map((d) => DAYS[d - 1]!.slice(0, 3)).join(' '));
  if (c.dateRange) parts.push(`${c.dateRange.from} to ${c.dateRange.to}`);
  return parts.length ? parts.join(' · ') : 'every call';
}

const byPriority = (a: Rule, b: Rule) => a.priority - b.priority || a.id.localeCompare(b.id);

function RulesSection({ rules, choices, onChanged, timezone }: { rules: Rule[]; choices: Choices; onChanged: () => void; timezone: string }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const [editing, setEditing] = useState<string | null>(null);
  const ordered = [...rules].sort(byPriority);
  const presentLabel = (target: Target) => choices.targets.find((t) => t.value === targetValue(target))?.label ?? ('resourceId' in target ? titleOf(choices.resources, target.resourceId) : `Box ${target.boxId}`);

  /** Moves a rule one place and numbers the rules 10, 20, 30… in the new order (only changed ones are saved). */
  const move = (index: number, by: -1 | 1) =>
    run(async () => {
      const order = [...ordered];
      const [rule] = order.splice(index, 1);
      order.splice(index + by, 0, rule!);
      for (const [i, r] of order.entries()) {
        const priority = (i + 1) * 10;
        if (r.priority === priority) continue;
        const { id, ...fields } = r;
        await must(portal.api.PUT('/v1/users/{uid}/preferences/rules/{ruleId}', { params: { path: { uid: portal.uid, ruleId: id }, header: { 'idempotency-key': idempotencyKey() } }, body: { ...fields, priority } }));
      }
      onChanged();
      return `Moved the rule ${by < 0 ? 'up' : 'down'}: it is now number ${index + by + 1}.`;
    });

  const remove = (rule: Rule) =>
    run(async () => {
      await must(portal.api.DELETE('/v1/users/{uid}/preferences/rules/{ruleId}', { params: { path: { uid: portal.uid, ruleId: rule.id }, header: { 'idempotency-key': idempotencyKey() } } }));
      onChanged();
      return 'Deleted the rule.';
    });

  return (
    <Section title="Presentation rules">
      <p class="muted">The matching rule with the lowest priority number wins; times and days are read in {timezone}.</p>
      {ordered.length === 0 && <p>No rules: callers are presented the default.</p>}
      <ol class="rules">
        {ordered.map((rule, index) =>
          editing === rule.id ? (
            <li key={rule.id} class="card">
              <RuleForm rule={rule} choices={choices} onDone={() => (setEditing(null), onChanged())} onCancel={() => setEditing(null)} />
            </li>
          ) : (
            <li key={rule.id} class="card rule" aria-label={`Rule ${index + 1}: ${presentLabel(rule.present)}`}>
              <div>
                <strong>{presentLabel(rule.present)}</strong> for {describeRule(rule)}
                <div class="muted">
                  Priority {rule.priority}
                  {rule.enabled ? '' : ' · disabled'}
                </div>
              </div>
              <div class="actions">
                <button type="button" disabled={index === 0 || state.busy} onClick={() => move(index, -1)} aria-label={`Move rule ${index + 1} up`}>
                  Move up
                </button>
                <button type="button" disabled={index === ordered.length - 1 || state.busy} onClick={() => move(index, 1)} aria-label={`Move rule ${index + 1} down`}>
                  Move down
                </button>
                <button type="button" onClick={() => setEditing(rule.id)} aria-label={`Edit rule ${index + 1}`}>
                  Edit
                </button>
                <button type="button" class="danger" disabled={state.busy} onClick={() => remove(rule)} aria-label={`Delete rule ${index + 1}`}>
                  Delete
                </button>
              </div>
            </li>
          ),
        )}
      </ol>
      <Outcome state={state} />
      <details class="card">
        <summary>Add a rule</summary>
        <RuleForm choices={choices} nextPriority={((ordered.at(-1)?.priority ?? 0) + 10)} onDone={onChanged} />
      </details>
    </Section>
  );
}

function RuleForm({ rule, choices, nextPriority, onDone, onCancel }: { rule?: Rule; choices: Choices; nextPriority?: number; onDone: () => void; onCancel?: () => void }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const c = rule?.conditions ?? {};
  const [callers, setCallers] = useState((c.callers ?? []).join('\n'));
  const [timeFrom, setTimeFrom] = useState(c.timeOfDay?.from ?? '');
  const [timeTo, setTimeTo] = useState(c.timeOfDay?.to ?? '');
  const [days, setDays] = useState<number[]>(c.daysOfWeek ?? []);
  const [dateFrom, setDateFrom] = useState(c.dateRange?.from ?? '');
  const [dateTo, setDateTo] = useState(c.dateRange?.to ?? '');
  const [priority, setPriority] = useState(String(rule?.priority ?? nextPriority ?? 10));
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [present, setPresent] = useState(targetValue(rule?.present));
  const [errors, setErrors] = useState<Record<string, string | null>>({});

  const submit = (event: Event) => {
    event.preventDefault();
    const callerList = splitList(callers);
    const found: Record<string, string | null> = {
      callers: checkList(conditionSchema.callers, callerList, checkIdentity),
      time: (timeFrom === '') !== (timeTo === '') ? 'set both times, or neither' : timeFrom ? checkText(conditionSchema.timeOfDay.properties.from, timeFrom) ?? checkText(conditionSchema.timeOfDay.properties.to, timeTo) : null,
      dates: (dateFrom === '') !== (dateTo === '') ? 'set both dates, or neither' : dateFrom && dateFrom > dateTo ? 'the first date must not be after the last' : null,
      priority: checkText(RuleInput.properties.priority, priority),
      present: present ? null : 'choose what the rule presents',
    };
    setErrors(found);
    if (Object.values(found).some(Boolean)) return;
    const conditions: Rule['conditions'] = {
      ...(callerList.length ? { callers: callerList } : {}),
      ...(timeFrom ? { timeOfDay: { from: timeFrom, to: timeTo } } : {}),
      ...(days.length ? { daysOfWeek: [...days].sort() } : {}),
      ...(dateFrom ? { dateRange: { from: dateFrom, to: dateTo } } : {}),
    };
    const body = { priority: Number(priority), enabled, conditions, present: targetOf(present)! };
    void run(async () => {
      const header = { 'idempotency-key': idempotencyKey() };
      const answer = rule
        ? await must(portal.api.PUT('/v1/users/{uid}/preferences/rules/{ruleId}', { params: { path: { uid: portal.uid, ruleId: rule.id }, header }, body }))
        : await must(portal.api.POST('/v1/users/{uid}/preferences/rules', { params: { ...own(portal), header }, body }));
      if (!rule) {
        // Ready for the next rule, one priority step after this one.
        [setCallers, setTimeFrom, setTimeTo, setDateFrom, setDateTo, setPresent].forEach((clear) => clear(''));
        setDays([]);
        setPriority(String(answer.rule.priority + 10));
      }
      onDone();
      return `${rule ? 'Saved' : 'Added'} the rule (priority ${answer.rule.priority}): ${chargeText(answer.charge)}.`;
    });
  };

  return (
    <form class="form-grid" onSubmit={submit} noValidate>
      <TargetSelect label="Present" value={present} onChange={setPresent} choices={choices} allowNone={false} />
      {errors['present'] && <Alert message={errors['present']} />}
      <Field label="Callers" error={errors['callers']} hint="One identity a line (tel:+… or sip:…); empty for every caller">
        {(props) => <textarea {...props} rows={2} value={callers} onInput={(e) => setCallers(e.currentTarget.value)} />}
      </Field>
      <fieldset class="pair">
        <legend>Time of day</legend>
        <Field label="From" error={errors['time']}>
          {(props) => <input {...props} type="time" value={timeFrom} onInput={(e) => setTimeFrom(e.currentTarget.value)} />}
        </Field>
        <Field label="To">{(props) => <input {...props} type="time" value={timeTo} onInput={(e) => setTimeTo(e.currentTarget.value)} />}</Field>
      </fieldset>
      <Checklist legend="Days" options={DAYS.map((day, i) => ({ value: i + 1, label: day.slice(0, 3) }))} chosen={days} onChange={setDays} />
      <fieldset class="pair">
        <legend>Dates</legend>
        <Field label="First day" error={errors['dates']}>
          {(props) => <input {...props} type="date" value={dateFrom} onInput={(e) => setDateFrom(e.currentTarget.value)} />}
        </Field>
        <Field label="Last day">{(props) => <input {...props} type="date" value={dateTo} onInput={(e) => setDateTo(e.currentTarget.value)} />}</Field>
      </fieldset>
      <Field label="Priority" error={errors['priority']} hint="Lowest wins">
        {(props) => (
          <input {...props} type="number" inputMode="numeric" min={limitsOf(RuleInput.properties.priority).minimum} max={limitsOf(RuleInput.properties.priority).maximum} value={priority} onInput={(e) => setPriority(e.currentTarget.value)} />
        )}
      </Field>
      <Switch label="Enabled" checked={enabled} onChange={setEnabled} />
      <div class="actions">
        <button type="submit" class="primary" disabled={state.busy}>
          {rule ? 'Save rule' : 'Add rule'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel edit
          </button>
        )}
      </div>
      <Outcome state={state} />
    </form>
  );
}

/** The user's own boxes, made of resources the user holds: a rule or the default can present one. */
function PersonalBoxesSection({ choices, onChanged }: { choices: Choices; onChanged: () => void }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const [name, setName] = useState('');
  const [mode, setMode] = useState<Box['mode']>('sequential');
  const [chosen, setChosen] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const fields = PersonalBoxInput.properties;

  const submit = (event: Event) => {
    event.preventDefault();
    const found = { name: checkText(fields.name, name.trim()), resources: checkList(fields.resourceIds, chosen) };
    setErrors(found);
    if (found.name || found.resources) return;
    void run(async () => {
      const answer = await must(portal.api.POST('/v1/users/{uid}/boxes', { params: withKey(portal), body: { name: name.trim(), resourceIds: chosen, mode } }));
      setName('');
      setChosen([]);
      onChanged();
      return `Made the box ${answer.box.name}: ${chargeText(answer.charge)}.`;
    });
  };
  const remove = (box: Box) =>
    run(async () => {
      await must(portal.api.DELETE('/v1/users/{uid}/boxes/{boxId}', { params: { path: { uid: portal.uid, boxId: box.id }, header: { 'idempotency-key': idempotencyKey() } } }));
      onChanged();
      return `Deleted the box ${box.name}.`;
    });

  return (
    <Section title="My boxes">
      <ul class="rules">
        {choices.personal.map((box) => (
          <RemovableItem key={box.id} name={`the box ${box.name}`} busy={state.busy} onRemove={() => remove(box)}>
            <strong>{box.name}</strong> ({box.mode === 'random' ? 'one at random per call' : 'one after the other'}): {box.resourceIds.map((id) => titleOf(choices.resources, id)).join(', ')}
          </RemovableItem>
        ))}
      </ul>
      <Outcome state={state} />
      <details class="card">
        <summary>Make a box</summary>
        <form class="form-grid" onSubmit={submit} noValidate>
          <Field label="Box name" error={errors['name'] && `Box name ${errors['name']}`}>
            {(p) => <input {...p} type="text" maxLength={limitsOf(fields.name).maxLength} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
          </Field>
          <Checklist
            legend="Resources, in play order"
            options={choices.held.map((id) => ({ value: id, label: titleOf(choices.resources, id) }))}
            chosen={chosen}
            onChange={setChosen}
            error={errors['resources'] && `Resources ${errors['resources']}`}
          />
          <Field label="Plays">
            {(p) => (
              <select {...p} value={mode} onChange={(e) => setMode(e.currentTarget.value as Box['mode'])}>
                <option value="sequential">one after the other, call by call</option>
                <option value="random">one at random per call</option>
              </select>
            )}
          </Field>
          <button type="submit" disabled={state.busy}>
            Make box
          </button>
        </form>
      </details>
    </Section>
  );
}

const RATINGS = ['general', 'teen', 'mature'] as const;
const TYPES = ['audio', 'video', 'image', 'text', 'multimedia'] as const;

function describeFilter(filter: Filter): string {
  const parts = [
    filter.categories?.length ? `categories ${filter.categories.join(', ')}` : '',
    filter.ratings?.length ? `rated ${filter.ratings.join(', ')}` : '',
    filter.types?.length ? `of type ${filter.types.join(', ')}` : '',
    filter.providers?.length ? `from providers ${filter.providers.join(', ')}` : '',
    filter.owners?.length ? `owned by ${filter.owners.join(', ')}` : '',
  ].filter(Boolean);
  return `Refuse what is ${parts.join(' and ')}`;
}

function FiltersSection({ filters, onChanged }: { filters: Filter[]; onChanged: () => void }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const [categories, setCategories] = useState('');
  const [providers, setProviders] = useState('');
  const [owners, setOwners] = useState('');
  const [ratings, setRatings] = useState<string[]>([]);
  const [types, setTypes] = useState<string[]>([]);
  const [error, setError] = useState<Record<string, string | null>>({});
  const props = FilterInput.properties;

  const submit = (event: Event) => {
    event.preventDefault();
    const lists = { categories: splitList(categories), providers: splitList(providers), owners: splitList(owners) };
    const found = {
      categories: checkList(props.categories, lists.categories),
      providers: checkList(props.providers, lists.providers),
      owners: checkList(props.owners, lists.owners, checkIdentity),
      none: Object.values(lists).every((l) => l.length === 0) && ratings.length === 0 && types.length === 0 ? 'set at least one criterion' : null,
    };
    setError(found);
    if (Object.values(found).some(Boolean)) return;
    const body = {
      ...(lists.categories.length ? { categories: lists.categories } : {}),
      ...(lists.providers.length ? { providers: lists.providers } : {}),
      ...(lists.owners.length ? { owners: lists.owners } : {}),
      ...(ratings.length ? { ratings: ratings as Filter['ratings'] } : {}),
      ...(types.length ? { types: types as Filter['types'] } : {}),
    };
    void run(async () => {
      const answer = await must(portal.api.POST('/v1/users/{uid}/preferences/filters', { params: withKey(portal), body }));
      setCategories('');
      setProviders('');
      setOwners('');
      setRatings([]);
      setTypes([]);
      onChanged();
      return `Added the filter: ${chargeText(answer.charge)}.`;
    });
  };
  const remove = (filter: Filter) =>
    run(async () => {
      await must(portal.api.DELETE('/v1/users/{uid}/preferences/filters/{filterId}', { params: { path: { uid: portal.uid, filterId: filter.id }, header: { 'idempotency-key': idempotencyKey() } } }));
      onChanged();
      return 'Deleted the filter.';
    });

  return (
    <Section title="Filter rules">
      <p class="muted">What you refuse to be presented when you call someone.</p>
      <ul class="rules">
        {filters.map((filter) => (
          <RemovableItem key={filter.id} name={`filter: ${describeFilter(filter)}`} busy={state.busy} onRemove={() => remove(filter)}>
            {describeFilter(filter)}
          </RemovableItem>
        ))}
      </ul>
      <Outcome state={state} />
      <details class="card">
        <summary>Add a filter</summary>
        <form class="form-grid" onSubmit={submit} noValidate>
          <Field label="Categories" error={error['categories']} hint="Comma-separated">
            {(p) => <input {...p} type="text" value={categories} onInput={(e) => setCategories(e.currentTarget.value)} />}
          </Field>
          <Checklist legend="Ratings" options={RATINGS.map((v) => ({ value: v, label: v }))} chosen={ratings} onChange={setRatings} />
          <Checklist legend="Types" options={TYPES.map((v) => ({ value: v, label: v }))} chosen={types} onChange={setTypes} />
          <Field label="Providers" error={error['providers']} hint="Comma-separated">
            {(p) => <input {...p} type="text" value={providers} onInput={(e) => setProviders(e.currentTarget.value)} />}
          </Field>
          <Field label="Owners" error={error['owners']} hint="Identities whose resources you refuse, one a line">
            {(p) => <textarea {...p} rows={2} value={owners} onInput={(e) => setOwners(e.currentTarget.value)} />}
          </Field>
          {error['none'] && <Alert message={error['none']} />}
          <button type="submit" disabled={state.busy}>
            Add filter
          </button>
        </form>
      </details>
    </Section>
  );
}

const REASONS: Record<string, string> = {
  blocked: 'the caller is on your blocked list',
  'no-candidate': 'no rule matches and there is no default',
  'nothing-usable': 'nothing the matching rules or the default name can be presented (expired, withdrawn or filtered by the caller)',
};

function PreviewSection({ resources }: { resources: Map<string, Resource> }) {
  const portal = usePortal();
  const [caller, setCaller] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [state, run] = useAction();
  const [preview, setPreview] = useState<Schemas['PresentationPreview'] | null>(null);

  const submit = (event: Event) => {
    event.preventDefault();
    const problem = checkIdentity(caller.trim());
    setError(problem && `Caller ${problem}`);
    if (problem) return;
    void run(async () => {
      const answer = await must(portal.api.GET('/v1/users/{uid}/presentation', { params: { ...own(portal), query: { caller: caller.trim() } } }));
      setPreview(answer);
      return null;
    });
  };
  const source = preview?.source;
  return (
    <Section title="Preview">
      <form class="card form-grid" onSubmit={submit} noValidate>
        <Field label="Caller" error={error} hint="Who calls you: what would the call present to them now?">
          {(p) => <input {...p} type="text" placeholder="tel:+15551230002" value={caller} onInput={(e) => setCaller(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="primary" disabled={state.busy}>
          Preview
        </button>
        <Outcome state={state} />
      </form>
      {preview && (
        <div class="card preview" role="region" aria-label="Preview result">
          {preview.presented.length === 0 ? (
            <p>
              A call from {preview.caller} now would present nothing: {REASONS[source?.reason ?? ''] ?? 'nothing applies'}.
            </p>
          ) : (
            <>
              <p>
                A call from {preview.caller} now would present{' '}
                <strong>{preview.presented.map((p) => titleOf(resources, p.resourceId)).join(', ')}</strong>{' '}
                ({source?.kind === 'rule' ? `rule ${source.ruleId}` : 'the default'}
                {source?.boxId ? `, from box ${source.boxId}` : ''}; read at {new Date(preview.at).toLocaleTimeString(undefined, { timeZone: preview.timezone })} in {preview.timezone}).
              </p>
              {preview.presented.map((p) => {
                const resource = resources.get(p.resourceId);
                return resource ? <MediaPreview key={p.resourceId} resource={{ ...resource, contentUri: p.contentUri }} /> : null;
              })}
            </>
          )}
        </div>
      )}
    </Section>
  );
}

/** The zone the rules are read in, set alone (`PUT …/preferences/timezone`): what another tab changed meanwhile stays. */
function TimezoneSection({ timezone: stored, onChanged }: { timezone: string; onChanged: () => void }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const [timezone, setTimezone] = useState(stored);
  const [error, setError] = useState<string | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    const name = timezone.trim();
    const problem = checkText(TimezoneBody.properties.timezone, name) ?? timeZoneProblem(name);
    setError(problem && `Time zone ${problem}`);
    if (problem) return;
    void run(async () => {
      const answer = await must(portal.api.PUT('/v1/users/{uid}/preferences/timezone', { params: withKey(portal), body: { timezone: name } }));
      setTimezone(answer.timezone);
      onChanged();
      return `Rules are now read in ${answer.timezone}: ${chargeText(answer.charge)}.`;
    });
  };
  return (
    <Section title="Time zone">
      <form class="card form-grid" onSubmit={submit} noValidate>
        <Field label="Time zone" error={error} hint={`Times, days and dates of the rules are read in it (now ${stored}). IANA name, e.g. Europe/Paris`}>
          {(p) => <input {...p} type="text" value={timezone} autocomplete="off" maxLength={limitsOf(TimezoneBody.properties.timezone).maxLength} onInput={(e) => setTimezone(e.currentTarget.value)} />}
        </Field>
        <button type="submit" disabled={state.busy}>
          Save time zone
        </button>
        <Outcome state={state} />
      </form>
    </Section>
  );
}
