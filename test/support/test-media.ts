/**
 * Small real media for the browser tests, served by the test server itself (the browser reaches
 * nothing else): a one-second WAV tone and an SVG card, at `/v1/test-media/…`.
 */
import type { RouteModule } from '../../src/http/app.js';

function toneWav(seconds = 1, rate = 8000, hz = 440): Buffer {
  const samples = seconds * rate;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 8000), 44 + i * 2);
  return wav;
}

const CARD_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="200" viewBox="0 0 480 200">
<defs><linearGradient id="g" x1="0" x2="1"><stop offset="0" stop-color="#0b5cad"/><stop offset="1" stop-color="#3fa7d6"/></linearGradient></defs>
<rect width="480" height="200" fill="url(#g)"/><text x="24" y="112" font-family="sans-serif" font-size="34" fill="#fff">ACME · Business Card</text></svg>`;

export const testMediaRoutes: RouteModule = (app) => {
  const tone = toneWav();
  app.get('/test-media/tone.wav', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.type('audio/wav').send(tone));
  app.get('/test-media/card.svg', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.type('image/svg+xml').send(CARD_SVG));
};
