/**
 * A zip reader for model archives (torch `.pt`, Keras `.keras`) that trusts nothing it reads:
 *  - the central directory is parsed first (ZIP64 included); entry count, each entry's declared
 *    size and the total are checked against named limits before anything is inflated;
 *  - entries are inflated only when asked for, into a buffer of exactly the declared size
 *    (inflating more is an error at that size, not after), and a compression ratio above
 *    ZIP_MAX_COMPRESSION_RATIO is refused up front;
 *  - the CRC-32 of every entry read is verified, as Python's zipfile does (a flipped byte in a
 *    checkpoint is an error, not silently different weights);
 *  - unsafe names (absolute, `..`, backslashes), duplicate names, encryption and methods other than
 *    stored/deflate are refused.
 * Errors are one line naming the archive and the entry.
 */
import * as zlib from 'zlib';
import { Budget, LimitOverrides, Limits, limitError, resolveLimits } from '../limits';
import { quoteName } from '../browser/text';

export interface ZipEntryInfo {
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  compressedSize: number;
  /** Declared uncompressed size. */
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE, as zip and gzip use it); `crc` continues a running value. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (typeof native === 'function') return native(bytes, crc) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;

/** Entries up to this size may compress arbitrarily well (tiny JSON, zero-filled biases). */
const RATIO_EXEMPT_BYTES = 1024 * 1024;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntryInfo>();
  private readonly view: DataView;
  private readonly limits: Limits;
  private readonly readBudget: Budget;

  /**
   * @param name label for errors (usually the file name)
   * @param what what the archive is, for messages ('torch zip archive', '.keras archive')
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
    readonly what = 'zip archive',
    limits: LimitOverrides = {},
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.limits = resolveLimits(limits);
    this.readBudget = new Budget(
      name,
      'ZIP_MAX_TOTAL_BYTES',
      this.limits.ZIP_MAX_TOTAL_BYTES,
      'the entries read uncompress to more bytes than allowed in total',
    );
    this.parseCentralDirectory();
  }

  private fail(msg: string): never {
    throw new Error(`${this.name}: corrupt or truncated ${this.what} (${msg})`);
  }

  private u16(p: number): number {
    if (p + 2 > this.bytes.length) this.fail('unexpected end of data');
    return this.view.getUint16(p, true);
  }
  private u32(p: number): number {
    if (p + 4 > this.bytes.length) this.fail('unexpected end of data');
    return this.view.getUint32(p, true);
  }
  private u64(p: number): number {
    if (p + 8 > this.bytes.length) this.fail('unexpected end of data');
    const v = this.view.getBigUint64(p, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('a ZIP64 size or offset is out of range');
    return Number(v);
  }

  private parseCentralDirectory(): void {
    const b = this.bytes;
    // End of central directory: last 22 bytes plus a comment of at most 65,535 bytes.
    let eocd = -1;
    for (let p = b.length - 22; p >= Math.max(0, b.length - 22 - 0xffff); p--) {
      if (b[p] === 0x50 && b[p + 1] === 0x4b && this.view.getUint32(p, true) === SIG_EOCD) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) this.fail('no end-of-central-directory record');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== SIG_ZIP64_LOCATOR) this.fail('ZIP64 locator missing');
      const z = this.u64(loc + 8);
      if (this.u32(z) !== SIG_ZIP64_EOCD) this.fail('ZIP64 end-of-central-directory record missing');
      count = this.u64(z + 32);
      cdSize = this.u64(z + 40);
      cdOffset = this.u64(z + 48);
    }
    if (count > this.limits.ZIP_MAX_ENTRIES)
      throw limitError(this.name, 'ZIP_MAX_ENTRIES', this.limits.ZIP_MAX_ENTRIES, `${this.what} with ${count} entries`);
    if (cdOffset + cdSize > b.length) this.fail('central directory lies outside the file');
    const declared = new Budget(
      this.name,
      'ZIP_MAX_TOTAL_BYTES',
      this.limits.ZIP_MAX_TOTAL_BYTES,
      `${this.what} that uncompresses to more bytes than allowed in total`,
    );
    let p = cdOffset;
    const utf8 = new TextDecoder('utf-8');
    for (let i = 0; i < count; i++) {
      if (this.u32(p) !== SIG_CENTRAL) this.fail(`central directory entry ${i} is malformed`);
      const flags = this.u16(p + 8);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localHeaderOffset = this.u32(p + 42);
      if (p + 46 + nameLen + extraLen > b.length) this.fail('unexpected end of data');
      const name = utf8.decode(b.subarray(p + 46, p + 46 + nameLen));
      // ZIP64 extended information: the 0xffffffff fields, in this order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) {
            size = this.u64(q);
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(q);
            q += 8;
          }
          if (localHeaderOffset === 0xffffffff) {
            localHeaderOffset = this.u64(q);
            q += 8;
          }
        }
        e += 4 + len;
      }
      const shown = quoteName(name);
      if (name.includes('..') || name.startsWith('/') || name.includes('\\') || name.includes('\0')) {
        throw new Error(`${this.name}: ${this.what} entry ${shown} has an unsafe path`);
      }
      if (flags & 1) throw new Error(`${this.name}: ${this.what} entry ${shown} is encrypted`);
      if (method !== 0 && method !== 8)
        throw new Error(`${this.name}: ${this.what} entry ${shown} uses unsupported compression method ${method}`);
      if (this.entries.has(name)) throw new Error(`${this.name}: ${this.what} has two entries named ${shown}`);
      if (size > this.limits.ZIP_MAX_ENTRY_BYTES) {
        throw limitError(
          this.name,
          'ZIP_MAX_ENTRY_BYTES',
          this.limits.ZIP_MAX_ENTRY_BYTES,
          `${this.what} entry ${shown} of ${size} bytes uncompressed`,
        );
      }
      if (method === 0 && compressedSize !== size)
        this.fail(`stored entry ${shown} declares ${compressedSize} bytes stored but ${size} uncompressed`);
      if (method === 8 && size > RATIO_EXEMPT_BYTES && size > compressedSize * this.limits.ZIP_MAX_COMPRESSION_RATIO) {
        throw limitError(
          this.name,
          'ZIP_MAX_COMPRESSION_RATIO',
          this.limits.ZIP_MAX_COMPRESSION_RATIO,
          `${this.what} entry ${shown} (${compressedSize} bytes inflating to ${size}: a zip bomb?)`,
        );
      }
      declared.add(size, `entry ${shown}`);
      this.entries.set(name, { name, method, compressedSize, size, crc32: crc, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** Names of all entries, in central-directory order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Inflates one entry (size-capped) and verifies its CRC-32. */
  read(entryName: string): Uint8Array {
    const e = this.entries.get(entryName);
    if (!e) throw new Error(`${this.name}: ${this.what} has no entry ${quoteName(entryName)}`);
    const shown = quoteName(e.name);
    const p = e.localHeaderOffset;
    if (this.u32(p) !== SIG_LOCAL) this.fail(`local header of ${shown} is missing`);
    const start = p + 30 + this.u16(p + 26) + this.u16(p + 28);
    const end = start + e.compressedSize;
    if (end > this.bytes.length) this.fail(`entry ${shown} is cut off`);
    this.readBudget.add(e.size, `entry ${shown}`);
    const raw = this.bytes.subarray(start, end);
    let data: Uint8Array;
    if (e.method === 0) {
      data = raw;
    } else {
      try {
        // maxOutputLength: a stream that inflates past the declared size fails at that size.
        const out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
        data = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ERR_BUFFER_TOO_LARGE') this.fail(`entry ${shown} inflates to more than its declared ${e.size} bytes`);
        this.fail(`entry ${shown} does not inflate: ${(err as Error).message}`);
      }
      if (data.length !== e.size) this.fail(`entry ${shown} inflates to ${data.length} bytes, ${e.size} declared`);
    }
    const actual = crc32(data);
    if (actual !== e.crc32) {
      throw new Error(
        `${this.name}: CRC-32 mismatch in ${this.what} entry ${shown} (stored ${hex(e.crc32)}, computed ${hex(actual)}): the file is corrupt`,
      );
    }
    return data;
  }
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** True when the bytes start like a zip archive (local header or an empty archive). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))
  );
}
