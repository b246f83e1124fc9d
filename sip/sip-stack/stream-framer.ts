/**
 * Cuts a SIP byte stream (TCP) into messages by the blank line and Content-Length. A message
 * larger than the cap, or a header section that never ends, stops the framer: the stream cannot
 * be trusted past that point and the connection is closed by its owner.
 */

export interface FramerEvents {
  message(bytes: Buffer): void;
  /** A message over the cap; its header section is given so a request can still be answered. */
  oversized(head: Buffer): void;
  /** Bytes that cannot be framed (no header end within the cap, a bad Content-Length). */
  garbage(reason: string): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(.*?)[ \t]*$/gim;

export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private stopped = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly events: FramerEvents,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (!this.stopped && this.next());
  }

  /** Frames one message off the buffer; false when more bytes are needed. */
  private next(): boolean {
    this.skipKeepAlives();
    const end = this.buffer.indexOf(HEADER_END);
    if (end < 0) {
      if (this.buffer.length > this.maxMessageBytes) this.fail('header section longer than the message cap');
      return false;
    }
    const head = this.buffer.subarray(0, end + HEADER_END.length);
    const declared = [...head.toString('latin1').matchAll(CONTENT_LENGTH)];
    // Two lengths leave no way to tell where the next message starts (RFC 4475 §3.3.9); the
    // stack reads the same header section the same way. Content-Length is mandatory on streams;
    // a message without it is taken to have no body (and refused by the stack).
    if (declared.length > 1) {
      this.fail('more than one Content-Length');
      return false;
    }
    const length = declared[0]?.[1] ?? '0';
    if (!/^\d{1,10}$/.test(length)) {
      this.fail(`bad Content-Length "${length.slice(0, 20)}"`);
      return false;
    }
    const total = head.length + Number(length);
    if (total > this.maxMessageBytes) {
      this.stopped = true;
      this.events.oversized(Buffer.from(head));
      return false;
    }
    if (this.buffer.length < total) return false;
    const message = Buffer.from(this.buffer.subarray(0, total));
    this.buffer = this.buffer.subarray(total);
    this.events.message(message);
    return true;
  }

  /** CRLF keep-alives (RFC 5626) between messages. */
  private skipKeepAlives(): void {
    let i = 0;
    while (i + 1 < this.buffer.length && this.buffer[i] === 0x0d && this.buffer[i + 1] === 0x0a) i += 2;
    if (i > 0) this.buffer = this.buffer.subarray(i);
  }

  private fail(reason: string): void {
    this.stopped = true;
    this.buffer = Buffer.alloc(0);
    this.events.garbage(reason);
  }
}
