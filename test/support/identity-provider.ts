/**
 * An operator's identity provider for tests: its JWKS endpoint on a free loopback port, with an
 * RSA and an EC key made here, signing tokens with them; it can answer 503 (down) or take requests
 * and never answer (hanging), and counts the requests it gets.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner } from 'fast-jwt';

/** An identity provider's JWKS endpoint on a free loopback port, with an RSA and an EC key. */
export class TestIdentityProvider {
  readonly rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  readonly ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  readonly issuer = 'https://idp.example.net/realms/cmr';
  readonly audience = 'cmr-server';
  requests = 0;
  up = true;
  /** Takes requests and never answers them. */
  hanging = false;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    const keys = [
      { ...this.rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...this.ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    this.server = createServer((req, res) => {
      this.requests += 1;
      if (this.hanging) return;
      if (!this.up || req.url !== '/protocol/openid-connect/certs') {
        res.writeHead(this.up ? 404 : 503, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/protocol/openid-connect/certs`;
  }

  sign(claims: Record<string, unknown>, options: { alg?: 'RS256' | 'ES256'; kid?: string; iss?: string; aud?: string; key?: string } = {}): string {
    const alg = options.alg ?? 'RS256';
    const key = options.key ?? (alg === 'RS256' ? this.rsa : this.ec).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    return createSigner({ key, algorithm: alg, kid: options.kid ?? (alg === 'RS256' ? 'rsa-1' : 'ec-1'), iss: options.iss ?? this.issuer, aud: options.aud ?? this.audience, expiresIn: 300_000 })(claims);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
