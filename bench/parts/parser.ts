/**
 * Part 6, the SIP parser, in-process: the time to read a message the way the embedded front
 * reads it (the strict check of `sip/sip-stack/reading.ts`, then the `sip` package's parse and
 * its corrections), beside the `sip` package's parse alone (what the front did before the
 * check) and drachtio-srf's parser (the other candidate, a descendant of the same code), on the
 * same messages in the same run: a call's INVITE as the benchmark's callers send it, and the
 * messages of RFC 4475's archive that read as SIP (the ones the check lets through).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readMessage } from '../../sip/sip-stack/reading.js';
import { sipPackage } from '../../sip/sip-stack/sip-package.js';
import type { BenchOptions } from '../options.js';
import type { Progress } from '../run.js';
import { round } from '../stats.js';

const ARCHIVE = path.resolve(import.meta.dirname, '../../test/sip/rfc4475');

export interface ParserFigures {
  /** Nanoseconds per message, by reader and message set. */
  invite: ParserTimes;
  archive: ParserTimes & { messages: number };
  /** The strict reading over the package alone, for the INVITE (the ratio that matters for calls). */
  ratio: number;
}

export interface ParserTimes {
  strict: number;
  packageOnly: number;
  drachtioSrf: number;
}

type Reader = (bytes: Buffer) => unknown;

export function benchParser(options: BenchOptions, progress: Progress): ParserFigures {
  const drachtioParse = createRequire(createRequire(import.meta.url).resolve('drachtio-srf'))('./sip-parser/parser.js') as { parseSipMessage(text: string, lazy?: boolean): unknown };
  const readers: Record<keyof ParserTimes, Reader> = {
    strict: (bytes) => readMessage(bytes, 'UDP'),
    packageOnly: (bytes) => sipPackage.parse(bytes),
    drachtioSrf: (bytes) => drachtioParse.parseSipMessage(bytes.toString('latin1'), false),
  };
  const archive = readdirSync(ARCHIVE)
    .filter((file) => file.endsWith('.dat'))
    .map((file) => readFileSync(path.join(ARCHIVE, file)))
    .filter((bytes) => readMessage(bytes, 'UDP').kind === 'message');
  const rounds = options.smoke ? 500 : 5000;
  const time = (messages: Buffer[]): ParserTimes => nsPerMessage(readers, messages, rounds);
  const invite = time([inviteBytes()]);
  progress(`parser INVITE: strict ${invite.strict} ns, sip package ${invite.packageOnly} ns, drachtio-srf ${invite.drachtioSrf} ns`);
  const archiveTimes = time(archive);
  progress(`parser RFC 4475 valid messages (${archive.length}): strict ${archiveTimes.strict} ns, sip package ${archiveTimes.packageOnly} ns, drachtio-srf ${archiveTimes.drachtioSrf} ns`);
  return { invite, archive: { ...archiveTimes, messages: archive.length }, ratio: round(invite.strict / invite.packageOnly, 2) };
}

/**
 * Per reader, the median of seven timed passes (after a warm-up pass of each). The readers take
 * turns pass by pass, so a busy spell of the machine falls on all of them alike.
 */
function nsPerMessage(readers: Record<keyof ParserTimes, Reader>, messages: Buffer[], rounds: number): ParserTimes {
  const entries = Object.entries(readers) as Array<[keyof ParserTimes, Reader]>;
  const pass = (read: Reader) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) read(messages[i % messages.length]!);
    return Number(process.hrtime.bigint() - start) / rounds;
  };
  for (const [, read] of entries) pass(read);
  const passes = new Map(entries.map(([name]) => [name, [] as number[]]));
  for (let p = 0; p < 7; p++) for (const [name, read] of entries) passes.get(name)!.push(pass(read));
  const median = (values: number[]) => Math.round(values.sort((a, b) => a - b)[3]!);
  return { strict: median(passes.get('strict')!), packageOnly: median(passes.get('packageOnly')!), drachtioSrf: median(passes.get('drachtioSrf')!) };
}

/** An initial INVITE with SDP, as the call part's sipp callers send it through an S-CSCF. */
function inviteBytes(): Buffer {
  const sdp = ['v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  const lines = [
    'INVITE sip:+15551230002@127.0.0.2:5062;user=phone SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport',
    'Max-Forwards: 70',
    'From: <sip:+15551230001@example.net;user=phone>;tag=1SIPpTag001',
    'To: <sip:+15551230002@example.net;user=phone>',
    'Call-ID: 1-4242@127.0.0.1',
    'CSeq: 1 INVITE',
    'Contact: <sip:sipp@127.0.0.1:5061>',
    'P-Asserted-Identity: <tel:+15551230001>',
    'P-Served-User: <sip:+15551230002@example.net;user=phone>;sescase=term;regstate=reg',
    'Supported: 100rel, timer',
    'Allow: INVITE, ACK, CANCEL, BYE, INFO, OPTIONS, UPDATE, PRACK',
    'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`,
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${sdp}`, 'latin1');
}
