/**
 * The embedded front's registrar (RFC 3261 §10) for the peers allowed to call directly
 * (`CMR_SIP_ACCESS`): a REGISTER binds its identity to the flow it came on (its WebSocket or TCP
 * connection, or its UDP address), so that initial requests for that identity reach the handset,
 * and requests coming on that flow are that identity's, whatever their From says.
 *
 * A handset proves who it is with the token of the REST API (RFC 8898, `Authorization: Bearer
 * <JWT>`): it may register only its token's `sub`, so nobody registers someone else's identity.
 * Bindings live in Redis and expire with their registration; a refresh extends them, a REGISTER
 * with `Expires: 0` removes them. One binding per identity: the latest REGISTER wins.
 */
import type { Logger } from 'pino';
import { sipWarning } from '../../src/calls/sip-warning.js';
import { normaliseIdentity, type Identity } from '../../src/domain/identity.js';
import type { Principal, TokenVerifier } from '../../src/http/plugins/auth.js';
import type { Keys } from '../../src/store/keys.js';
import type { RedisClient } from '../../src/store/redis.js';
import { bearerTokenOf } from '../sip-stack/bearer-token.js';
import { headerValue, uriText } from '../sip-stack/message.js';
import type { SipRequest } from '../sip-stack/sip-package.js';
import type { Peer } from '../sip-stack/stack.js';

export interface Binding {
  identity: Identity;
  /** The handset's Contact URI: the Request-URI of what is sent to it. */
  contact: string;
  /** The flow it registered on. */
  peer: Peer;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface RegistrarAnswer {
  status: number;
  reason: string;
  headers: Record<string, string>;
}

export interface RegistrarOptions {
  redis: RedisClient;
  keys: Keys;
  /** The REST API's token verifier. */
  tokens: Pick<TokenVerifier, 'verify'>;
  /** Written in Warning and as the Bearer realm. */
  host: string;
  logger: Logger;
}

/** Registration lifetimes, seconds: what a REGISTER without Expires gets, the least and the most granted. */
export const REGISTRATION_SEC = { default: 600, min: 60, max: 3600 } as const;

export class Registrar {
  constructor(private readonly options: RegistrarOptions) {}

  /** Answers a REGISTER of an access peer. */
  async register(request: SipRequest, source: Peer): Promise<RegistrarAnswer> {
    const log = this.options.logger.child({ callId: request.headers['call-id'] });
    const identity = normaliseIdentity(uriText(request.headers.to.uri));
    if (!identity) return this.refuse(400, 'Bad Request', 'the To header names no identity');
    const token = bearerTokenOf(request);
    if (!token) return this.unauthorized('REGISTER needs Authorization: Bearer <token of the REST API>', false);
    let principal: Principal;
    try {
      principal = await this.options.tokens.verify(token);
    } catch (err) {
      log.info({ event: 'register-refused', identity, status: 401, reason: (err as Error).message }, 'REGISTER with an invalid token');
      return this.unauthorized((err as Error).message, true);
    }
    if (principal.identity !== identity) {
      log.info({ event: 'register-refused', identity, sub: principal.sub, status: 403 }, "REGISTER for another user's identity");
      return this.refuse(403, 'Forbidden', `the token is for ${principal.sub}, not ${identity}`);
    }

    const contact = request.headers.contact;
    const expires = expiresOf(request);
    try {
      if (contact === '*') {
        if (expires !== 0) return this.refuse(400, 'Bad Request', 'Contact: * needs Expires: 0');
        await this.remove(identity);
        log.info({ event: 'unregistered', identity }, 'handset unregistered');
        return { status: 200, reason: 'OK', headers: {} };
      }
      const first = contact?.[0];
      if (!first) return this.current(identity); // a query (RFC 3261 §10.2.3)
      const asked = expiresParam(first.params['expires']) ?? expires ?? REGISTRATION_SEC.default;
      if (asked === 0) {
        await this.remove(identity);
        log.info({ event: 'unregistered', identity }, 'handset unregistered');
        return { status: 200, reason: 'OK', headers: {} };
      }
      if (asked < REGISTRATION_SEC.min) {
        return { status: 423, reason: 'Interval Too Brief', headers: { 'Min-Expires': String(REGISTRATION_SEC.min) } };
      }
      const granted = Math.min(asked, REGISTRATION_SEC.max);
      const binding: Binding = { identity, contact: uriText(first.uri), peer: source, expiresAt: Date.now() + granted * 1000 };
      await this.save(binding, granted);
      log.info({ event: 'registered', identity, contact: binding.contact, flow: `${source.protocol} ${source.address}:${source.port}`, expiresSec: granted }, 'handset registered');
      return { status: 200, reason: 'OK', headers: { Contact: contactValue(binding) } };
    } catch (err) {
      log.warn({ event: 'register-failed', identity, err: (err as Error).message }, 'bindings unreachable; REGISTER answered 503');
      return { status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '5', Warning: sipWarning(this.options.host, 'registrations cannot be stored now') } };
    }
  }

  /** The binding of an identity whose flow is still there (null when there is none, or the store fails: the call goes on as if unregistered). */
  async bindingOf(identity: Identity, isLive: (peer: Peer) => boolean): Promise<Binding | null> {
    try {
      const text = await this.options.redis.get(this.options.keys.sipBinding(identity));
      const binding = text === null ? null : (JSON.parse(text) as Binding);
      return binding && binding.expiresAt > Date.now() && isLive(binding.peer) ? binding : null;
    } catch (err) {
      this.options.logger.warn({ event: 'binding-unreadable', identity, err: (err as Error).message }, 'bindings unreachable; routing as if unregistered');
      return null;
    }
  }

  /** The identity registered from the flow a request came on, if any. */
  async identityOn(source: Peer): Promise<Identity | null> {
    try {
      return (await this.options.redis.get(this.options.keys.sipBindingSource(sourceKey(source)))) as Identity | null;
    } catch (err) {
      this.options.logger.warn({ event: 'binding-unreadable', err: (err as Error).message }, 'bindings unreachable; the sender is read from From');
      return null;
    }
  }

  private async save(binding: Binding, expiresSec: number): Promise<void> {
    const previous = await this.bindingOf(binding.identity, () => true);
    const { redis, keys } = this.options;
    const ttl = expiresSec * 1000;
    if (previous && sourceKey(previous.peer) !== sourceKey(binding.peer)) await redis.del(keys.sipBindingSource(sourceKey(previous.peer)));
    await redis.set(keys.sipBinding(binding.identity), JSON.stringify(binding), 'PX', ttl);
    await redis.set(keys.sipBindingSource(sourceKey(binding.peer)), binding.identity, 'PX', ttl);
  }

  private async remove(identity: Identity): Promise<void> {
    const previous = await this.bindingOf(identity, () => true);
    const { redis, keys } = this.options;
    if (previous) await redis.del(keys.sipBindingSource(sourceKey(previous.peer)));
    await redis.del(keys.sipBinding(identity));
  }

  private async current(identity: Identity): Promise<RegistrarAnswer> {
    const binding = await this.bindingOf(identity, () => true);
    return { status: 200, reason: 'OK', headers: binding ? { Contact: contactValue(binding) } : {} };
  }

  private unauthorized(reason: string, invalidToken: boolean): RegistrarAnswer {
    const challenge = `Bearer realm="${this.options.host}"${invalidToken ? ', error="invalid_token"' : ''}`;
    return { status: 401, reason: 'Unauthorized', headers: { 'WWW-Authenticate': challenge, Warning: sipWarning(this.options.host, reason) } };
  }

  private refuse(status: number, reason: string, warning: string): RegistrarAnswer {
    return { status, reason, headers: { Warning: sipWarning(this.options.host, warning) } };
  }
}

/** A flow's name: its connection id, or the UDP address (which is its own flow). */
function sourceKey(peer: Peer): string {
  return peer.flowId ?? `${peer.protocol}:${peer.address}:${peer.port}`;
}

function contactValue(binding: Binding): string {
  return `<${binding.contact}>;expires=${Math.max(0, Math.round((binding.expiresAt - Date.now()) / 1000))}`;
}

function expiresOf(request: SipRequest): number | null {
  return expiresParam(headerValue(request, 'expires'));
}

function expiresParam(value: string | null | undefined): number | null {
  if (value === undefined || value === null || !/^\s*\d{1,10}\s*$/.test(value)) return null;
  return Number(value);
}
