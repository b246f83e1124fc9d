/**
 * The null anchor of the drachtio front: the least B2BUA on unmodified drachtio-srf, connected
 * inbound, as the front is, to the tests' scripted drachtio peer (`test/support/drachtio-peer`,
 * the model the tests use). Every INVITE becomes a B leg to its Request-URI with
 * `createB2BUA`'s defaults (provisional responses passed on, the answer's SDP relayed), and a BYE
 * on either leg ends the other (drachtio-srf leaves that to the app). Nothing else.
 */
import Srf from 'drachtio-srf';

export class NullB2bua {
  private constructor(private readonly srf: Srf) {}

  /** Connected and routing INVITEs through the scripted drachtio peer listening at `port`. */
  static async start(server: { port: number; secret: string }): Promise<NullB2bua> {
    const srf = new Srf();
    srf.invite((req, res) => {
      srf.createB2BUA(req, res, req.uri, {}).then(
        ({ uas, uac }) => {
          uas.on('destroy', () => uac.destroy());
          uac.on('destroy', () => uas.destroy());
        },
        () => undefined, // the B leg failed: drachtio-srf has answered the caller with its final response
      );
    });
    await new Promise<void>((resolve, reject) => {
      srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
      void srf.connect({ host: '127.0.0.1', port: server.port, secret: server.secret });
    });
    return new NullB2bua(srf);
  }

  close(): void {
    this.srf.disconnect();
  }
}
