// The base of the packet views: a window (buf, offset, byteLength) onto a byte array that can be
// re-pointed at the next packet with reset(), so the fast path allocates nothing.

const EMPTY = new Uint8Array(0);

export class PacketView {
  /** The array the view reads and writes. */
  buf: Uint8Array = EMPTY;
  /** Where the header starts in `buf`. */
  offset = 0;
  /** How many bytes from `offset` belong to this header and what follows it. */
  byteLength = 0;

  constructor(buf?: Uint8Array, offset = 0, length?: number) {
    if (buf) this.reset(buf, offset, length);
  }

  /**
   * Points the view at `length` bytes of `buf` from `offset` (default: to the end). Out-of-range
   * arguments are clamped to the array, never rejected. Returns the view.
   */
  reset(buf: Uint8Array, offset = 0, length = buf.length - offset): this {
    const start = offset > 0 ? Math.min(offset, buf.length) : 0;
    this.buf = buf;
    this.offset = start;
    this.byteLength = length > 0 ? Math.min(length, buf.length - start) : 0;
    return this;
  }

  /** The bytes of the view as a subarray sharing memory. Allocates: not for the fast path. */
  bytes(): Uint8Array {
    return this.buf.subarray(this.offset, this.offset + this.byteLength);
  }
}
