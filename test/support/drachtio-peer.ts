/** The scripted drachtio-server of the drachtio front's tests (see `drachtio-peer/peer.ts`). */
export { DrachtioPeer } from './drachtio-peer/peer.js';
export { CalleeLeg, CallerLeg, ClientRequest, NetworkLeg, type AppConnection, type CallOptions, type SendOptions } from './drachtio-peer/legs.js';
