import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { unzipSync, zipSync } from 'fflate';
import { loadTorchStateDict, parseTorchStateDict } from 'anomaly-lab/pickle';
import { describeShared, sharedPath } from '../helpers/shared';

const FIXTURES = path.join(__dirname, 'fixtures');

/** Independent reference: storage bytes → numbers, with DataView (no code shared with the loader). */
function storageFloats(file: string, entry: string, littleEndian = true): number[] {
  const files = unzipSync(new Uint8Array(fs.readFileSync(file)));
  const raw = files[entry];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.length / 4 }, (_, i) => view.getFloat32(i * 4, littleEndian));
}

function tmpFile(name: string, bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickle-test-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** A zip laid out like torch.save's, with the given data.pkl. */
function torchZip(pkl: Uint8Array, extra: Record<string, Uint8Array> = {}): Uint8Array {
  return zipSync({
    'archive/data.pkl': [pkl, { level: 0 }],
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, [v, { level: 0 }]])),
  } as never);
}

const latin1Bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describeShared('loadTorchStateDict on the AnomalyBERT fixture', () => {
  const file = sharedPath('fixtures', 'anomalybert', 'state_dict.pt');
  const config = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'anomalybert', 'expected.json'), 'utf8')).config;

  it('has every parameter of the reference model with shapes implied by the config', async () => {
    const sd = await loadTorchStateDict(file);
    const D = config.d_embed as number;
    const P = config.patch_size as number;
    const C = config.input_d_data as number;
    const T = config.max_seq_len as number;
    const expectShape = (k: string, shape: number[]): void => {
      expect(sd.has(k)).toBe(true);
      expect(sd.get(k)!.shape).toEqual(shape);
      expect(sd.get(k)!.data.length).toBe(shape.reduce((a, b) => a * b, 1));
      expect(sd.get(k)!.dtype).toBe('float32');
    };
    expectShape('linear_embedding.weight', [D, P * C]);
    expectShape('linear_embedding.bias', [D]);
    for (let l = 0; l < config.n_layer; l++) {
      const pre = `transformer_encoder.encoder_layers.${l}`;
      expectShape(`${pre}.attention_layer.relative_position_embedding_table`, [2 * T - 1, config.n_head]);
      for (const i of [0, 1, 2]) {
        expectShape(`${pre}.attention_layer.word_fc_layers.${i}.weight`, [D, D]);
        expectShape(`${pre}.attention_layer.word_fc_layers.${i}.bias`, [D]);
      }
      expectShape(`${pre}.attention_layer.output_fc_layer.weight`, [D, D]);
      expectShape(`${pre}.feed_forward_layer.first_fc_layer.weight`, [4 * D, D]);
      expectShape(`${pre}.feed_forward_layer.second_fc_layer.weight`, [D, 4 * D]);
      expectShape(`${pre}.norm_layers.0.weight`, [D]);
      expectShape(`${pre}.norm_layers.1.bias`, [D]);
    }
    expectShape('mlp_layers.0.weight', [4 * D, D]);
    expectShape('mlp_layers.2.weight', [P * 1, 4 * D]);
    expect(sd.size).toBe(2 + config.n_layer * 17 + 4); // per layer: table + 3×2 qkv + 2 out + 4 ff + 4 norm
  });

  it('returns the exact float32 values of the storages', async () => {
    const sd = await loadTorchStateDict(file);
    const ref = storageFloats(file, 'state_dict/data/0'); // storage '0' is linear_embedding.weight
    expect(Array.from(sd.get('linear_embedding.weight')!.data)).toEqual(ref);
  });

  it('rejects a truncated copy with a one-line error naming the file', async () => {
    const bytes = fs.readFileSync(file);
    const cut = tmpFile('truncated.pt', new Uint8Array(bytes.subarray(0, Math.floor(bytes.length / 2))));
    await expect(loadTorchStateDict(cut)).rejects.toThrow(/^truncated\.pt: corrupt or truncated torch zip archive/);
  });
});

describe('loadTorchStateDict on generated archives', () => {
  const strided = path.join(FIXTURES, 'strided.pt');

  it('makes strided and offset views contiguous', async () => {
    const sd = await loadTorchStateDict(strided);
    const s = storageFloats(strided, 'strided/data/0');
    const w = sd.get('w.weight')!;
    expect(w.shape).toEqual([3, 4]);
    expect(Array.from(w.data)).toEqual(s);
    const wt = sd.get('w_t')!; // size (4, 3), stride (1, 4)
    expect(wt.shape).toEqual([4, 3]);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) expect(wt.data[i * 3 + j]).toBe(s[i + 4 * j]);
    const ws = sd.get('w_slice')!; // offset 5, size (2, 2), stride (4, 1)
    expect(ws.shape).toEqual([2, 2]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(ws.data[i * 2 + j]).toBe(s[5 + 4 * i + j]);
  });

  it('decodes float64 parameters, int64, float16 and bool storages', async () => {
    const sd = await loadTorchStateDict(strided);
    const files = unzipSync(new Uint8Array(fs.readFileSync(strided)));
    const f64 = new DataView(files['strided/data/1'].buffer, files['strided/data/1'].byteOffset);
    const bias = sd.get('b.bias')!;
    expect(bias.dtype).toBe('float64');
    for (let i = 0; i < 3; i++) expect(bias.data[i]).toBe(Math.fround(f64.getFloat64(i * 8, true)));

    const i64 = new DataView(files['strided/data/2'].buffer, files['strided/data/2'].byteOffset);
    const steps = sd.get('steps')!;
    expect(steps.dtype).toBe('int64');
    expect(steps.intData).toBeInstanceOf(BigInt64Array);
    for (let i = 0; i < 4; i++) expect(steps.intData![i]).toBe(i64.getBigInt64(i * 8, true));
    const scalar = sd.get('scalar')!;
    expect(scalar.shape).toEqual([]);
    expect(scalar.intData![0]).toBe(i64.getBigInt64(24, true));

    // float16: sign/exponent/mantissa decoded by hand here as an independent check.
    const h = files['strided/data/3'];
    const half = sd.get('half')!;
    expect(half.dtype).toBe('float16');
    for (let i = 0; i < 3; i++) {
      const bits = h[2 * i] | (h[2 * i + 1] << 8);
      const e = (bits >> 10) & 31;
      const m = bits & 1023;
      expect(half.data[i]).toBe((bits & 0x8000 ? -1 : 1) * (e === 0 ? (m / 1024) * 2 ** -14 : (1 + m / 1024) * 2 ** (e - 15)));
    }
    const mask = sd.get('mask')!;
    expect(mask.dtype).toBe('bool');
    expect(mask.intData).toEqual(files['strided/data/4']);
  });

  it('honours byteorder "big"', async () => {
    const be = path.join(FIXTURES, 'bigendian.pt');
    const sd = await loadTorchStateDict(be);
    expect(Array.from(sd.get('w.weight')!.data)).toEqual(storageFloats(be, 'archive/data/0', false));
  });

  it('rejects the legacy (non-zip) format', async () => {
    await expect(loadTorchStateDict(path.join(FIXTURES, 'legacy.pt'))).rejects.toThrow(
      /^legacy\.pt: unsupported legacy \(non-zip\) torch format/,
    );
  });

  it('rejects a hostile data.pkl calling os.system, naming the global, without running it', async () => {
    const marker = path.join(os.tmpdir(), `pwned-${process.pid}`);
    const cmd = `touch ${marker}`;
    const pkl = latin1Bytes(`\x80\x02cposix\nsystem\nq\x00X${String.fromCharCode(cmd.length)}\x00\x00\x00${cmd}\x85R.`);
    const file = tmpFile('hostile.pt', torchZip(pkl));
    await expect(loadTorchStateDict(file)).rejects.toThrow("hostile.pt: pickle global 'posix.system' is not allowed");
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('explains that a whole pickled model must be saved as a state dict', () => {
    const pkl = latin1Bytes('\x80\x02cmodels.anomaly_transformer\nAnomalyTransformer\n)\x81}b.');
    expect(() => parseTorchStateDict(torchZip(pkl), 'model.pt')).toThrow(
      "model.pt: pickle global 'models.anomaly_transformer.AnomalyTransformer' is not allowed (is this a whole pickled model? Save and load its state dict instead",
    );
  });

  it('rejects an entry whose declared uncompressed size is over the limit', async () => {
    const zip = torchZip(latin1Bytes('\x80\x02}.'));
    // Patch the central directory's uncompressed size of the entry (offset 24 in the record).
    const cd = zip.findIndex((_b, i) => zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 0x01 && zip[i + 3] === 0x02);
    new DataView(zip.buffer).setUint32(cd + 24, 0xf0000000, true);
    const file = tmpFile('oversized.pt', zip);
    await expect(loadTorchStateDict(file)).rejects.toThrow(
      /^oversized\.pt: torch zip archive entry 'archive\/data\.pkl' of 4026531840 bytes uncompressed exceeds ZIP_MAX_ENTRY_BYTES \(2 GiB\)/,
    );
    expect(() =>
      parseTorchStateDict(torchZip(latin1Bytes('\x80\x02}.'), { 'archive/version': latin1Bytes('3\n') }), 'small.pt', {
        zipLimits: { maxEntries: 1 },
      }),
    ).toThrow('small.pt: torch zip archive with 2 entries exceeds ZIP_MAX_ENTRIES (1)');
  });

  it('names a storage missing from the archive', () => {
    const pkl = latin1Bytes(
      '\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x007X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89)tRu.',
    );
    expect(() => parseTorchStateDict(torchZip(pkl), 'missing.pt')).toThrow("missing.pt: storage '7' is missing from the archive");
  });

  it('survives self-referencing dicts and fake storages in data.pkl', () => {
    const cyclic = latin1Bytes('\x80\x02}q\x00X\x01\x00\x00\x00ah\x00s.'); // d = {}; d['a'] = d
    expect(() => parseTorchStateDict(torchZip(cyclic), 'cyclic.pt')).toThrow('cyclic.pt: the state dict holds no tensors');
    // _rebuild_tensor_v2 handed a dict with a "values" key instead of a storage
    const fake = latin1Bytes(
      '\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n(}X\x06\x00\x00\x00values]sK\x00K\x01\x85K\x01\x85\x89)tRs.',
    );
    expect(() => parseTorchStateDict(torchZip(fake), 'fake.pt')).toThrow('fake.pt: _rebuild_tensor_v2 without a storage');
  });

  it('unwraps _rebuild_from_type_v2 (tensor subclasses such as Parameter) but only around torch rebuilds', () => {
    const inner =
      '((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89)t';
    const wrap = (func: string): Uint8Array =>
      latin1Bytes(
        `\x80\x02}X\x01\x00\x00\x00wctorch._tensor\n_rebuild_from_type_v2\n(${func}ctorch.nn.parameter\nParameter\n${inner}}tRs.`,
      );
    const zip = (pkl: Uint8Array): Uint8Array => torchZip(pkl, { 'archive/data/0': new Uint8Array(new Float32Array([1.5, -2]).buffer) });
    const sd = parseTorchStateDict(zip(wrap('ctorch._utils\n_rebuild_tensor_v2\n')), 'param.pt');
    expect(Array.from(sd.get('w')!.data)).toEqual([1.5, -2]);
    expect(() => parseTorchStateDict(zip(wrap('ccollections\nOrderedDict\n')), 'sneaky.pt')).toThrow(
      'sneaky.pt: _rebuild_from_type_v2 with a function other than a torch tensor rebuild',
    );
  });

  it('counts stride-0 views of a tiny storage in total against TORCH_MAX_VIEW_BYTES (raisable per call)', () => {
    // size (2**25,), stride (0,) over a one-element storage: 128 MiB of output from 4 bytes, per tensor.
    const view = (key: string): string =>
      `X\x01\x00\x00\x00${key}ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQK\x00J\x00\x00\x00\x02\x85K\x00\x85\x89)tR`;
    const one = torchZip(latin1Bytes(`\x80\x02}(${view('a')}u.`), { 'archive/data/0': new Uint8Array(4) });
    const three = torchZip(latin1Bytes(`\x80\x02}(${view('a')}${view('b')}${view('c')}u.`), { 'archive/data/0': new Uint8Array(4) });
    // One such view fits the 256 MiB default; three (384 MiB) do not — refused before the third is allocated.
    expect(parseTorchStateDict(one, 'one.pt').get('a')!.data.length).toBe(2 ** 25);
    expect(() => parseTorchStateDict(three, 'expand.pt')).toThrow(
      "expand.pt: tensors copied out of shared storages need more memory than allowed in total (tensor of size [33554432] viewing storage '0') exceeds TORCH_MAX_VIEW_BYTES (256 MiB)",
    );
    expect(() => parseTorchStateDict(one, 'low.pt', { limits: { TORCH_MAX_VIEW_BYTES: 2 ** 20 } })).toThrow(
      'low.pt: tensors copied out of shared storages',
    );
    expect(parseTorchStateDict(three, 'raised.pt', { limits: { TORCH_MAX_VIEW_BYTES: 2 ** 30 } }).size).toBe(3);
  });

  it('rejects a file that is not a zip', () => {
    expect(() => parseTorchStateDict(latin1Bytes('hello world'), 'text.pt')).toThrow('text.pt: not a torch zip archive');
  });
});
