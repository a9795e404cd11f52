/**
 * Checks of a parquet file's declared sizes before hyparquet decodes it. hyparquet sizes its
 * arrays from the footer (num_rows) and from each page header (num_values, uncompressed size):
 * a 2 KB file whose page header says 140 million values makes V8 abort the whole process
 * ("Fatal JavaScript invalid size error"), which no try/catch can stop. So the footer is checked
 * against the file size and its row groups, and every page header of the columns to be read is
 * walked (a small Thrift compact-protocol reader, no decoding of values) and checked against its
 * row group before any page is decoded.
 */
import { limitError, resolveLimits } from '../limits';
import { quoteName } from '../browser/text';

/** The slice of hyparquet's FileMetaData these checks read. */
export interface ParquetFooter {
  num_rows: bigint | number;
  row_groups: Array<{
    num_rows: bigint | number;
    columns: Array<{
      meta_data?: {
        type?: string;
        codec?: string;
        path_in_schema: string[];
        num_values: bigint | number;
        total_compressed_size: bigint | number;
        total_uncompressed_size: bigint | number;
        data_page_offset: bigint | number;
        dictionary_page_offset?: bigint | number;
      };
    }>;
  }>;
}

/** An uncompressed page may be this many times its compressed size (deflate tops out near 1032:1). */
const MAX_PAGE_EXPANSION = 1100;
/** Pages below this size may compress arbitrarily well (a dictionary page of one value). */
const EXPANSION_EXEMPT_BYTES = 1024 * 1024;

/**
 * A footer's num_rows sizes every column array: it must agree with its row groups and be
 * plausible for the file's size (PARQUET_MAX_ROWS_PER_BYTE), checked before decoding anything.
 */
export function checkParquetRows(
  file: string,
  metadata: Pick<ParquetFooter, 'num_rows'> & { row_groups: Array<{ num_rows: bigint | number }> },
  fileBytes: number,
): void {
  const n = Number(metadata.num_rows);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${file}: parquet footer declares ${String(metadata.num_rows)} rows (corrupt parquet file)`);
  const inGroups = metadata.row_groups.reduce((s, g) => s + Number(g.num_rows), 0);
  if (inGroups !== n)
    throw new Error(`${file}: parquet footer declares ${n} rows but its row groups hold ${inGroups} (corrupt parquet file)`);
  const perByte = resolveLimits().PARQUET_MAX_ROWS_PER_BYTE;
  if (n > perByte * fileBytes)
    throw limitError(file, 'PARQUET_MAX_ROWS_PER_BYTE', perByte, `a parquet footer declaring ${n} rows in a file of ${fileBytes} bytes`);
}

class ThriftReader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly end: number,
    private readonly fail: (msg: string) => never,
  ) {}

  byte(): number {
    if (this.pos >= this.end) this.fail('page header runs past its column chunk');
    return this.bytes[this.pos++];
  }

  varint(): number {
    let result = 0;
    let mult = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mult;
      if (!(b & 0x80)) return result;
      mult *= 128;
    }
    return this.fail('malformed varint in a page header');
  }

  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  /** Reads a struct; returns the integer fields (by id) and nested structs (by id), skips the rest. */
  struct(depth = 0): Map<number, number | Map<number, unknown>> {
    if (depth > 16) this.fail('page header nested too deeply');
    const out = new Map<number, number | Map<number, unknown>>();
    let id = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const type = h & 0x0f;
      const delta = h >> 4;
      id = delta ? id + delta : this.zigzag();
      const v = this.value(type, depth, false);
      if (v !== undefined) out.set(id, v as number | Map<number, unknown>);
    }
  }

  private value(type: number, depth: number, inContainer: boolean): number | Map<number, unknown> | undefined {
    switch (type) {
      case 1:
      case 2: // bool: in a field header the type is the value; inside lists/maps it is one byte
        return inContainer ? this.byte() : type === 1 ? 1 : 0;
      case 3:
        this.byte();
        return undefined; // byte
      case 4:
      case 5:
      case 6:
        return this.zigzag(); // i16 / i32 / i64
      case 7:
        this.skip(8);
        return undefined; // double
      case 8:
        this.skip(this.varint());
        return undefined; // binary
      case 9:
      case 10: {
        // list / set
        const h = this.byte();
        const n = h >> 4 === 15 ? this.varint() : h >> 4;
        for (let i = 0; i < n; i++) this.value(h & 0x0f, depth + 1, true);
        return undefined;
      }
      case 11: {
        // map
        const n = this.varint();
        if (n === 0) return undefined;
        const kv = this.byte();
        for (let i = 0; i < n; i++) {
          this.value(kv >> 4, depth + 1, true);
          this.value(kv & 0x0f, depth + 1, true);
        }
        return undefined;
      }
      case 12:
        return this.struct(depth + 1);
      default:
        return this.fail(`unknown Thrift type ${type} in a page header`);
    }
  }

  private skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) this.fail('page header runs past its column chunk');
    this.pos += n;
  }
}

/** Decompresses one page the way hyparquet will (codec name as in the footer, e.g. 'SNAPPY'). */
export type PageDecompressor = (codec: string, compressed: Uint8Array, uncompressedSize: number) => Uint8Array;

export interface PageCheckOptions {
  /** Also walk the RLE/bit-packed runs of data pages (needs the pages decompressed). */
  decompress?: PageDecompressor;
  /** Column name → max definition level (1 for OPTIONAL flat columns, 0 for REQUIRED). */
  maxDefinitionLevels?: Map<string, number>;
}

/**
 * Walks an RLE/bit-packed hybrid stream as hyparquet's reader will and refuses an RLE run longer
 * than the values still expected: hyparquet writes every run value into a plain JS array, so one
 * run header claiming 2^31 values grows that array until V8 aborts the process.
 */
function checkHybrid(
  view: DataView,
  start: number,
  length: number | undefined,
  width: number,
  expected: number,
  fail: (msg: string) => never,
): number {
  let p = start;
  if (length === undefined) {
    if (p + 4 > view.byteLength) fail('RLE stream without its length');
    length = view.getUint32(p, true);
    p += 4;
  }
  const end = Math.min(view.byteLength, p + length);
  const byteWidth = (width + 7) >> 3;
  // Bit-packed groups come in eights: allow the padding of the last group.
  const allowed = Math.ceil(expected / 8) * 8;
  let seen = 0;
  while (seen < expected && p < end) {
    let header = 0;
    let mult = 1;
    for (let i = 0; ; i++) {
      if (p >= view.byteLength || i > 5) fail('malformed RLE run header');
      const b = view.getUint8(p++);
      header += (b & 0x7f) * mult;
      if (!(b & 0x80)) break;
      mult *= 128;
    }
    if (header % 2 === 1) {
      const count = Math.floor(header / 2) * 8;
      seen += count;
      p += Math.ceil((count * width) / 8);
    } else {
      const count = header / 2;
      if (seen + count > allowed) fail(`an RLE run of ${count} values exceeds the page's ${expected}`);
      seen += count;
      p += byteWidth;
    }
  }
  return p;
}

const ENCODING_RLE = 3;
const DICTIONARY_ENCODINGS = new Set([2, 8]); // PLAIN_DICTIONARY, RLE_DICTIONARY

/** Checks the run-length streams of one data page (levels, dictionary indices, RLE booleans). */
function checkDataPageRuns(
  page: { compressed: Uint8Array; v2: boolean; header: Map<number, unknown>; uncompressed: number },
  column: { type: string; codec: string; maxDef: number },
  decompress: PageDecompressor,
  fail: (msg: string) => never,
): void {
  const h = page.header.get(page.v2 ? 8 : 5) as Map<number, unknown>;
  const num = Number(h.get(1));
  const encoding = Number(h.get(page.v2 ? 4 : 2));
  const width = column.maxDef > 0 ? Math.ceil(Math.log2(column.maxDef + 1)) : 0;
  const decomp = (b: Uint8Array, size: number): Uint8Array => {
    try {
      return column.codec === 'UNCOMPRESSED' ? b : decompress(column.codec, b, size);
    } catch (e) {
      return fail(`page does not decompress (${(e as Error).message.split('\n')[0].slice(0, 80)})`);
    }
  };
  let values: DataView;
  let offset = 0;
  if (!page.v2) {
    const bytes = decomp(page.compressed, page.uncompressed);
    values = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (width) {
      if (values.byteLength < 4) fail('page too short for its definition levels');
      const len = values.getUint32(0, true);
      checkHybrid(values, 0, undefined, width, num, fail);
      offset = 4 + len;
    }
  } else {
    const defLen = Number(h.get(5) ?? 0);
    const repLen = Number(h.get(6) ?? 0);
    if (defLen + repLen > page.compressed.length) fail('page levels are larger than the page');
    const levels = new DataView(page.compressed.buffer, page.compressed.byteOffset, page.compressed.byteLength);
    if (width) checkHybrid(levels, repLen, defLen, width, num, fail);
    const rest = page.compressed.subarray(defLen + repLen);
    const bytes = h.get(7) === 0 ? rest : decomp(rest, page.uncompressed - defLen - repLen);
    values = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  if (offset > values.byteLength) fail('definition levels run past the page');
  if (encoding === ENCODING_RLE && column.type === 'BOOLEAN') {
    checkHybrid(values, offset, undefined, 1, num, fail);
  } else if (DICTIONARY_ENCODINGS.has(encoding) || encoding === ENCODING_RLE) {
    if (offset >= values.byteLength) return;
    const bitWidth = values.getUint8(offset);
    if (bitWidth > 32) fail(`dictionary index width ${bitWidth} bits`);
    if (bitWidth) checkHybrid(values, offset + 1, values.byteLength - offset - 1, bitWidth, num, fail);
  }
}

/**
 * Walks the page headers of the named columns (all when `columns` is undefined) and checks each
 * page's declared value count and sizes against its row group and column chunk; with
 * `opts.decompress`, also the run lengths inside each data page.
 */
export function checkParquetPages(
  file: string,
  bytes: Uint8Array,
  metadata: ParquetFooter,
  columns?: string[],
  opts: PageCheckOptions = {},
): void {
  const wanted = columns ? new Set(columns) : undefined;
  metadata.row_groups.forEach((g, gi) => {
    const rows = Number(g.num_rows);
    for (const c of g.columns) {
      const md = c.meta_data;
      if (!md) continue;
      const name = md.path_in_schema.join('.');
      if (wanted && !wanted.has(name)) continue;
      const where = `row group ${gi}, column ${quoteName(name, 60)}`;
      const fail = (msg: string): never => {
        throw new Error(`${file}: ${where}: ${msg} (corrupt parquet file)`);
      };
      const numValues = Number(md.num_values);
      if (!(numValues >= 0 && numValues <= rows)) fail(`${numValues} values declared for ${rows} rows`);
      const dict = md.dictionary_page_offset === undefined ? undefined : Number(md.dictionary_page_offset);
      const start = dict !== undefined && dict > 0 ? Math.min(dict, Number(md.data_page_offset)) : Number(md.data_page_offset);
      const size = Number(md.total_compressed_size);
      if (!(Number.isSafeInteger(start) && Number.isSafeInteger(size) && start >= 0 && size >= 0 && start + size <= bytes.length)) {
        fail(`column chunk [${start}, +${size}) lies outside the file of ${bytes.length} bytes`);
      }
      const end = start + size;
      const reader = new ThriftReader(bytes, start, end, fail);
      let values = 0;
      while (reader.pos < end && values < numValues) {
        const h = reader.struct();
        const uncompressed = h.get(2);
        const compressed = h.get(3);
        if (typeof uncompressed !== 'number' || typeof compressed !== 'number' || uncompressed < 0 || compressed < 0)
          fail('page header without sizes');
        const u = uncompressed as number;
        const cz = compressed as number;
        if (reader.pos + cz > end) fail(`page of ${cz} bytes runs past its column chunk`);
        if (u > EXPANSION_EXEMPT_BYTES && u > cz * MAX_PAGE_EXPANSION) fail(`page of ${cz} bytes declares ${u} bytes uncompressed`);
        const dataV1 = h.get(5);
        const dictionary = h.get(7);
        const dataV2 = h.get(8);
        const count = (m: unknown, field: number): number => {
          const v = m instanceof Map ? m.get(field) : undefined;
          if (typeof v !== 'number' || v < 0) fail('page header without a value count');
          return v as number;
        };
        if (dictionary instanceof Map) {
          const n = count(dictionary, 1);
          if (n > rows || n > u) fail(`dictionary page declares ${n} values (${rows} rows, ${u} bytes)`);
        } else if (dataV1 instanceof Map || dataV2 instanceof Map) {
          const n = count(dataV1 instanceof Map ? dataV1 : dataV2, 1);
          values += n;
          if (values > numValues) fail(`pages declare ${values} values, the column chunk ${numValues}`);
          if (dataV2 instanceof Map) {
            const nulls = dataV2.get(2);
            const levels = [dataV2.get(5), dataV2.get(6)].reduce<number>((s, v) => s + (typeof v === 'number' ? v : 0), 0);
            if (typeof nulls === 'number' && (nulls < 0 || nulls > n)) fail(`page declares ${nulls} nulls among ${n} values`);
            if (levels < 0 || levels > u) fail('page levels are larger than the page');
          }
          if (opts.decompress) {
            checkDataPageRuns(
              {
                compressed: bytes.subarray(reader.pos, reader.pos + cz),
                v2: dataV2 instanceof Map,
                header: h as Map<number, unknown>,
                uncompressed: u,
              },
              { type: md.type ?? '', codec: md.codec ?? 'UNCOMPRESSED', maxDef: opts.maxDefinitionLevels?.get(name) ?? 0 },
              opts.decompress,
              fail,
            );
          }
        }
        reader.pos += cz;
      }
    }
  });
}

/** hyparquet's own choice of decompressor (its compressors map, else its built-in snappy). */
export function hyparquetDecompressor(
  compressors: object | undefined,
  snappyUncompress: (input: Uint8Array, output: Uint8Array) => unknown,
): PageDecompressor {
  return (codec, compressed, size) => {
    const custom = (compressors as Record<string, ((input: Uint8Array, outputLength: number) => Uint8Array) | undefined> | undefined)?.[
      codec
    ];
    if (custom) return custom(compressed, size);
    if (codec === 'SNAPPY') {
      const out = new Uint8Array(size);
      snappyUncompress(compressed, out);
      return out;
    }
    throw new Error(`unsupported compression ${codec}`);
  };
}

/** Max definition level per top-level column of a flat schema (OPTIONAL/REPEATED → 1, REQUIRED → 0). */
export function flatDefinitionLevels(children: Array<{ element: { name: string; repetition_type?: string } }>): Map<string, number> {
  return new Map(children.map((c) => [c.element.name, c.element.repetition_type === 'REQUIRED' ? 0 : 1]));
}
