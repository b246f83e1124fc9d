/**
 * The handset's telephone: a SIP.js user agent over WebSocket to the embedded front, registered
 * with the signed-in user's access token (RFC 8898 bearer), making and taking one call at a time
 * with WebRTC audio, reading what the other party presents from `Alert-Info`, and sending the
 * copy request (`cmr-copy` INFO, or the DTMF key) in the early or the confirmed dialog.
 *
 * Framework-free: the page renders `PhoneView`, which `onChange` hands it after every change.
 */
import { Core, Inviter, Registerer, RegistererState, SessionState, UserAgent, type Invitation, type Session, type Web } from 'sip.js';
import { announcedIn, dialled, identityOf, sipUriOf, type Announced, type SipSettings } from './sip-addresses';

/** The handset as a registered CMR client (`/v1/clients`): what its copy requests name. */
export const HANDSET_CLIENT = { id: 'cmr-handset', version: __CMR_VERSION__ };
const COPY_PACKAGE = 'cmr-copy';
const COPY_CONTENT_TYPE = 'application/vnd.cmr.copy+json';
const REGISTRATION_SEC = 600;

export type Registration = { state: 'connecting' } | { state: 'registered' } | { state: 'failed'; reason: string };

export interface CallView {
  direction: 'outgoing' | 'incoming';
  /** The other party's identity. */
  peer: string;
  state: 'calling' | 'ringing' | 'incoming' | 'connected' | 'ended';
  /** What the other party presents to this handset. */
  presented: Announced[];
  /** The server advertised `Recv-Info: cmr-copy` in an 18x or the 200. */
  copyOffered: boolean;
  /** What came of the last copy request, in words. */
  copy: { busy: boolean; outcome: string | null; refused: boolean };
  /** Why the call ended, when it did not end by a hang-up here. */
  ended: string | null;
}

export interface PhoneView {
  registration: Registration;
  call: CallView | null;
}

interface CopyResult {
  result: 'copied' | 'already-owned';
  entries: Array<{ resourceId: string; libraryEntryId: string; expiresAt: string }>;
}

type Dialog = Core.SessionDialog;

export class Phone {
  private readonly ua: UserAgent;
  private readonly registerer: Registerer;
  private view: PhoneView = { registration: { state: 'connecting' }, call: null };
  private session: Session | null = null;
  /** The early dialog of an outgoing call (SIP.js sends INFO only in a confirmed one). */
  private earlyDialog: Dialog | null = null;

  constructor(
    private readonly me: { identity: string; token: string },
    private readonly sip: SipSettings & { webSocketPort: number },
    private readonly remoteAudio: () => HTMLAudioElement | null,
    private readonly onChange: (view: PhoneView) => void,
    /** Titles of resources, for the copy outcome. */
    private readonly titleOf: (resourceId: string) => string,
  ) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.ua = new UserAgent({
      uri: UserAgent.makeURI(sipUriOf(me.identity, sip.domain)),
      transportOptions: { server: `${scheme}://${location.hostname}:${sip.webSocketPort}` },
      userAgentString: `${HANDSET_CLIENT.id}/${HANDSET_CLIENT.version}`,
      logBuiltinEnabled: false,
      // Host candidates only: the handset reaches its peer directly, no STUN server is asked.
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 2000 },
      delegate: { onInvite: (invitation) => this.incoming(invitation), onDisconnect: (error) => error && this.registration({ state: 'failed', reason: `the connection to the server was lost (${error.message})` }) },
    });
    this.registerer = new Registerer(this.ua, { expires: REGISTRATION_SEC, extraHeaders: [`Authorization: Bearer ${me.token}`] });
    this.registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Registered) this.registration({ state: 'registered' });
    });
  }

  get current(): PhoneView {
    return this.view;
  }

  async start(): Promise<void> {
    try {
      await this.ua.start();
    } catch (err) {
      this.registration({ state: 'failed', reason: `the server's WebSocket cannot be reached (${(err as Error).message})` });
      return;
    }
    await this.registerer.register({
      requestDelegate: { onReject: (response) => this.registration({ state: 'failed', reason: `the server refused to register this handset: ${refusal(response.message)}` }) },
    });
  }

  async stop(): Promise<void> {
    await this.hangUp();
    if (this.registerer.state === RegistererState.Registered) await this.registerer.unregister().catch(() => undefined);
    await this.ua.stop();
  }

  /** Calls what the user typed; the reason in words when it cannot be called. */
  async call(number: string): Promise<string | null> {
    if (this.view.call && this.view.call.state !== 'ended') return 'hang up the current call first';
    const target = dialled(number, this.sip.domain);
    if ('error' in target) return target.error;
    const inviter = new Inviter(this.ua, UserAgent.makeURI(target.uri)!, { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
    this.follow(inviter, { direction: 'outgoing', peer: target.identity, state: 'calling' });
    await inviter.invite({
      requestDelegate: {
        onProgress: (response) => {
          if (response.message.statusCode === 100) return;
          // SIP.js passes on the core's response, which carries the early dialog its types leave out.
          this.earlyDialog = (response as unknown as { session?: Dialog }).session ?? this.earlyDialog;
          this.announced(response.message, 'ringing');
        },
        onAccept: (response) => this.announced(response.message, 'connected'),
        onReject: (response) => this.endCall(`the call was not answered: ${refusal(response.message)}`),
      },
    }).catch((err: Error) => this.endCall(`the call could not be placed: ${err.message}`));
    return null;
  }

  async answer(): Promise<void> {
    const invitation = this.session as Invitation | null;
    if (!invitation || this.view.call?.state !== 'incoming') return;
    await invitation.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
  }

  async hangUp(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.endCall(null);
    if (session.state === SessionState.Established) await session.bye().catch(() => undefined);
    else if (session instanceof Inviter) await session.cancel().catch(() => undefined);
    else if (session.state === SessionState.Initial || session.state === SessionState.Establishing) await (session as Invitation).reject().catch(() => undefined);
  }

  /** Asks for a copy of everything the other party presents (`dtmf`: by the copy key instead of the cmr-copy INFO). */
  copy(how: 'info' | 'dtmf' = 'info'): void {
    const call = this.view.call;
    const dialog = this.dialog();
    if (!call || !dialog || call.copy.busy || !call.copyOffered) return;
    const body =
      how === 'info'
        ? { contentType: COPY_CONTENT_TYPE, contentDisposition: 'Info-Package', content: JSON.stringify(this.copyRequest(call)) }
        : { contentType: 'application/dtmf-relay', contentDisposition: 'render', content: 'Signal=*\r\nDuration=160\r\n' };
    this.update({ copy: { busy: true, outcome: null, refused: false } });
    const done = (outcome: string, refused: boolean) => this.update({ copy: { busy: false, outcome, refused } });
    new Core.InfoUserAgentClient(dialog, {
      onAccept: (response) => done(this.copied(response.message), false),
      onReject: (response) => done(`Copy refused: ${refusal(response.message)}`, true),
    }, { extraHeaders: how === 'info' ? [`Info-Package: ${COPY_PACKAGE}`] : [], body });
  }

  private copyRequest(call: CallView) {
    const [caller, called] = call.direction === 'outgoing' ? [this.me.identity, call.peer] : [call.peer, this.me.identity];
    return { caller, called, client: HANDSET_CLIENT };
  }

  private copied(response: Core.IncomingResponseMessage): string {
    try {
      const result = JSON.parse(response.body) as CopyResult;
      const titles = result.entries.map((e) => this.titleOf(e.resourceId)).join(', ');
      return result.result === 'copied' ? `Copied: ${titles} (library entry ${result.entries.map((e) => e.libraryEntryId).join(', ')})` : `Already in your library: ${titles}`;
    } catch {
      return 'Copied';
    }
  }

  /** The dialog to send in: the confirmed one once answered, else the early one of an outgoing call. */
  private dialog(): Dialog | null {
    return (this.session?.dialog as Dialog | undefined) ?? this.earlyDialog;
  }

  private incoming(invitation: Invitation): void {
    if (this.view.call && this.view.call.state !== 'ended') {
      void invitation.reject({ statusCode: 486 });
      return;
    }
    const from = invitation.request.getHeader('p-asserted-identity') ?? invitation.request.from.uri.toString();
    this.follow(invitation, { direction: 'incoming', peer: identityOf(from) ?? from, state: 'incoming' });
    this.update({ presented: announcedIn(invitation.request.getHeaders('alert-info')) });
    void invitation.progress().catch(() => undefined);
  }

  private follow(session: Session, call: Pick<CallView, 'direction' | 'peer' | 'state'>): void {
    this.session = session;
    this.earlyDialog = null;
    this.view = { ...this.view, call: { ...call, presented: [], copyOffered: false, copy: { busy: false, outcome: null, refused: false }, ended: null } };
    this.onChange(this.view);
    session.stateChange.addListener((state) => {
      if (this.session !== session) return;
      if (state === SessionState.Established) {
        this.hearOtherParty(session);
        this.update({ state: 'connected' });
      }
      if (state === SessionState.Terminated && this.view.call?.state !== 'ended') this.endCall('the other party hung up');
    });
  }

  /** What an 18x or the 200 of an outgoing call says: what is presented, and whether it may be copied. */
  private announced(response: Core.IncomingResponseMessage, state: CallView['state']): void {
    const presented = announcedIn(response.getHeaders('alert-info'));
    const offered = response.getHeaders('recv-info').some((value) => value.split(',').some((p) => p.trim().toLowerCase() === COPY_PACKAGE));
    const call = this.view.call;
    if (!call) return;
    this.update({ state, presented: presented.length > 0 ? presented : call.presented, copyOffered: call.copyOffered || offered });
  }

  private hearOtherParty(session: Session): void {
    const handler = session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined;
    const audio = this.remoteAudio();
    if (!handler || !audio) return;
    audio.srcObject = handler.remoteMediaStream;
    void audio.play().catch(() => undefined);
  }

  private endCall(reason: string | null): void {
    if (!this.view.call || this.view.call.state === 'ended') return;
    this.update({ state: 'ended', ended: reason });
    this.session = null;
    this.earlyDialog = null;
    const audio = this.remoteAudio();
    if (audio) audio.srcObject = null;
  }

  private update(change: Partial<CallView>): void {
    if (!this.view.call) return;
    this.view = { ...this.view, call: { ...this.view.call, ...change } };
    this.onChange(this.view);
  }

  private registration(registration: Registration): void {
    this.view = { ...this.view, registration };
    this.onChange(this.view);
  }
}

/** A SIP refusal in words: status, reason and the server's Warning text. */
function refusal(response: Core.IncomingResponseMessage): string {
  const warning = /"([^"]*)"\s*$/.exec(response.getHeader('warning') ?? '')?.[1];
  const meaning = MEANINGS[response.statusCode ?? 0];
  return [`${response.statusCode} ${response.reasonPhrase}`, meaning, warning].filter(Boolean).join(' — ');
}

/** What the copy and call refusals of the contract mean for the person holding the handset. */
const MEANINGS: Record<number, string> = {
  402: 'charging was denied',
  403: 'not allowed',
  404: 'nothing is presented to you',
  480: 'nobody answers at that number now',
  486: 'busy',
  503: 'the service is unavailable, try again shortly',
};
