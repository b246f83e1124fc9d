/** Valid request bodies to start from; tests change one thing at a time. */
export function resourceBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Summer Song',
    type: 'audio',
    contentUri: 'https://media.example.net/tones/summer.mp3',
    mimeType: 'audio/mpeg',
    durationSec: 30,
    categories: ['pop'],
    rating: 'general',
    provider: 'acme-music',
    copyable: true,
    validityDays: 30,
    prices: { subscribe: 199, renew: 149, copy: 99, gift: 199, currency: 'EUR' },
    ...overrides,
  };
}

export function clientBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'acme-handset', name: 'ACME handset', enabled: true, minVersion: '2.0.0', ...overrides };
}
