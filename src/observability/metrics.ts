/**
 * Prometheus metrics of one server instance. Each instance has its own registry, so tests can
 * build many apps in one process; a module adds its counters here to keep names in one place.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'cmr_http_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'cmr_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly charges = new Counter({
    name: 'cmr_charges_total',
    help: 'Charging requests by mode and outcome (granted, denied, unavailable)',
    labelNames: ['mode', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly portalDeliveries = new Counter({
    name: 'cmr_portal_deliveries_total',
    help: 'Activity records delivered to the portal webhook, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly selections = new Counter({
    name: 'cmr_selections_total',
    help: 'Call-time selections by result (annotated, empty, fail-open-timeout, fail-open-error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly copies = new Counter({
    name: 'cmr_copies_total',
    help: 'Copy requests by channel and result',
    labelNames: ['channel', 'result'] as const,
    registers: [this.registry],
  });
  readonly librarySweeps = new Counter({
    name: 'cmr_library_sweeps_total',
    help: 'Library entries handled by the sweeper, by outcome (renewed, refused, expired, deferred, rescheduled, dropped)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly sipMessages = new Counter({
    name: 'cmr_sip_messages_total',
    help: 'SIP messages handled by the signalling front, by direction and kind',
    labelNames: ['front', 'direction', 'kind'] as const,
    registers: [this.registry],
  });

  readonly mediaPlays = new Counter({
    name: 'cmr_media_plays_total',
    help: 'Ringback tones started toward callers, by result (playing, or why not: relay-down, relay-error, content-unavailable, no-codec, no-duration, budget, no-offer)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly mediaPlayStart = new Histogram({
    name: 'cmr_media_play_start_seconds',
    help: 'Time from the front asking for a ringback tone to rtpengine playing it (content, offer, answer, block, play)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
