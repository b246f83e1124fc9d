/**
 * The channel an activity record names for a REST request: `portal` when the CMR Portal sent it
 * (its pages add `X-CMR-Channel: portal`), else `rest`. It only labels the record for the SP's
 * reports; it grants nothing.
 */
import type { FastifyRequest } from 'fastify';
import type { Channel } from '../domain/types.js';

export const CHANNEL_HEADER = 'x-cmr-channel';

export function channelOf(request: FastifyRequest): Extract<Channel, 'rest' | 'portal'> {
  return request.headers[CHANNEL_HEADER] === 'portal' ? 'portal' : 'rest';
}
