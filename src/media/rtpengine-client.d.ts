/**
 * Types for `rtpengine-client` 0.4 (it ships none), for the part this server uses: the UDP
 * client and its ng commands. Every command resolves with rtpengine's reply dictionary; with
 * `rejectOnError` a reply of `result: 'error'` rejects (with the `error-reason` string), with
 * `timeout` an unanswered command rejects after that many milliseconds.
 */
declare module 'rtpengine-client' {
  import { EventEmitter } from 'node:events';

  export interface NgTarget {
    host: string;
    port: number;
  }

  export type NgValue = string | number | NgValue[] | { [key: string]: NgValue };
  export type NgMessage = Record<string, NgValue>;
  export interface NgReply {
    result: string;
    'error-reason'?: string;
    sdp?: string;
    duration?: number;
    [key: string]: unknown;
  }

  type Command = (target: NgTarget, message?: NgMessage) => Promise<NgReply>;

  export class Client extends EventEmitter {
    constructor(options?: { localAddress?: string; localPort?: number; timeout?: number; rejectOnError?: boolean });
    ping: Command;
    offer: Command;
    answer: Command;
    delete: Command;
    query: Command;
    list: Command;
    playMedia: Command;
    stopMedia: Command;
    blockMedia: Command;
    unblockMedia: Command;
    close(): void;
  }

  const rtpengine: { Client: typeof Client };
  export default rtpengine;
}
