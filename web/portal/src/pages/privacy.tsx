/** Privacy: who may copy from the user and send gifts, the user's contacts and blocked list. */
import { useState } from 'preact/hooks';
import { idempotencyKey, must, type Answer } from '../../../api/client';
import { checkIdentity, checkList, splitList } from '../../../api/fields';
import { Privacy } from '../../../api/schemas';
import { own } from '../catalog';
import { usePortal } from '../context';
import { chargeText, Field, Loading, Outcome, Page, useAction, useLoad } from '../ui';

type PrivacySettings = Answer<'/v1/users/{uid}/privacy', 'put'>['privacy'];
type Audience = PrivacySettings['copy'];

const AUDIENCES: Array<[Audience, string]> = [
  ['everyone', 'Everyone'],
  ['contacts', 'My contacts only'],
  ['nobody', 'Nobody'],
];

export function PrivacyPage() {
  const portal = usePortal();
  const loaded = useLoad(async () => (await must(portal.api.GET('/v1/users/{uid}/preferences', { params: own(portal) }))).privacy);
  return (
    <Page title="Privacy">
      <Loading loaded={loaded}>{(privacy) => <PrivacyForm privacy={privacy} />}</Loading>
    </Page>
  );
}

function PrivacyForm({ privacy }: { privacy: PrivacySettings }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const [copy, setCopy] = useState<Audience>(privacy.copy);
  const [gifts, setGifts] = useState<Audience>(privacy.gifts);
  const [contacts, setContacts] = useState(privacy.contacts.join('\n'));
  const [blocked, setBlocked] = useState(privacy.blocked.join('\n'));
  const [errors, setErrors] = useState<Record<string, string | null>>({});

  const submit = (event: Event) => {
    event.preventDefault();
    const lists = { contacts: splitList(contacts), blocked: splitList(blocked) };
    const found = {
      contacts: checkList(Privacy.properties.contacts, lists.contacts, checkIdentity),
      blocked: checkList(Privacy.properties.blocked, lists.blocked, checkIdentity),
    };
    setErrors(found);
    if (found.contacts || found.blocked) return;
    void run(async () => {
      const answer = await must(
        portal.api.PUT('/v1/users/{uid}/privacy', { params: { ...own(portal), header: { 'idempotency-key': idempotencyKey() } }, body: { copy, gifts, ...lists } }),
      );
      setContacts(answer.privacy.contacts.join('\n'));
      setBlocked(answer.privacy.blocked.join('\n'));
      return `Saved your privacy settings: ${chargeText(answer.charge)}.`;
    });
  };

  const audience = (label: string, value: Audience, set: (a: Audience) => void) => (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => set(e.currentTarget.value as Audience)}>
          {AUDIENCES.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );

  return (
    <form class="card form-grid" onSubmit={submit} noValidate>
      {audience('Who may copy from my library', copy, setCopy)}
      {audience('Who may give me gifts', gifts, setGifts)}
      <Field label="Contacts" error={errors['contacts']} hint="One identity a line (tel:+… or sip:…)">
        {(props) => <textarea {...props} rows={4} value={contacts} onInput={(e) => setContacts(e.currentTarget.value)} />}
      </Field>
      <Field label="Blocked" error={errors['blocked']} hint="Blocked users may not copy from you or give you gifts, and are presented nothing when they call you">
        {(props) => <textarea {...props} rows={3} value={blocked} onInput={(e) => setBlocked(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="primary" disabled={state.busy}>
        Save privacy
      </button>
      <Outcome state={state} />
    </form>
  );
}
