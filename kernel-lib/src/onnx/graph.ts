/**
 * A small builder of ONNX graphs and the (de)serialisation of ONNX models.
 *
 * The wire format is written and read by the protobuf code generated from the ONNX schema
 * (`onnx-proto`, protobufjs); this module only assembles the messages. Graphs are float32 with one
 * dynamic batch axis; weights are initializers holding little-endian raw data (what onnxruntime
 * and the Python `onnx` package read fastest).
 */
import * as fs from 'fs';
import * as os from 'os';
import { onnx } from 'onnx-proto';

/**
 * Opset of the default ONNX domain the exporters target: 20 has LayerNormalization (17) and a
 * native Gelu (20), both run by onnxruntime ≥ 1.17 (Python, Node and web alike).
 */
export const ONNX_OPSET = 20;
/** IR version 9 goes with opset 20 (ONNX 1.15). */
export const ONNX_IR_VERSION = 9;

export type AttrValue =
  number | string | number[] | { ints: number[] } | { floats: number[] } | { strings: string[] } | { int: number } | { float: number };

export interface GraphIO {
  name: string;
  /** A number, or a string naming a dynamic axis (e.g. 'batch'). */
  shape: Array<number | string>;
  /** Element type; default float32 (bool: the training graph's dropout masks, one byte each). */
  type?: 'float32' | 'bool';
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function attribute(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  // A bare number is an int when it is one, a float otherwise; {float}/{int} force the kind.
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('int' in v) return { name, type: T.INT, i: v.int };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.STRINGS, strings: v.strings.map((s) => new TextEncoder().encode(s)) };
}

function valueInfo(io: GraphIO): onnx.IValueInfoProto {
  return {
    name: io.name,
    type: {
      tensorType: {
        elemType: io.type === 'bool' ? onnx.TensorProto.DataType.BOOL : FLOAT,
        shape: { dim: io.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  if (os.endianness() !== 'LE') throw new Error('ONNX export: raw tensor data is little-endian; this big-endian host is not supported');
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name with a readable stem. */
  fresh(stem: string): string {
    let name: string;
    do name = `${stem}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  /** A float32 weight (initializer) under `name` (torch state-dict names are kept). */
  weight(name: string, data: Float32Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new Error(`ONNX export: '${name}' holds ${data.length} values, its shape [${dims.join(', ')}] needs ${size}`);
    if (this.names.has(name)) throw new Error(`ONNX export: value '${name}' defined twice`);
    this.names.add(name);
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: littleEndianBytes(data) });
    return name;
  }

  /** An int64 constant (shapes, axes, indices) as an initializer. */
  ints(stem: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh(stem);
    this.initializers.push({ name, dims, dataType: INT64, rawData: littleEndianBytes(BigInt64Array.from(values.map((v) => BigInt(v)))) });
    return name;
  }

  /** A float32 constant (scalars, scale vectors). */
  floats(stem: string, values: number[] | Float32Array, dims: number[] = [values.length]): string {
    const name = this.fresh(stem);
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: littleEndianBytes(Float32Array.from(values)) });
    return name;
  }

  /** Append a node of the default domain; returns its (first) output name. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOutputs = 1): string {
    return this.nodeOutputs(opType, inputs, attrs, nOutputs)[0];
  }

  /** Append a node; returns all its output names ('' inputs are omitted optional inputs). */
  nodeOutputs(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, nOutputs = 1): string[] {
    const outputs = Array.from({ length: nOutputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      opType,
      name: `${opType}_${this.nodes.length}`,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** Rename a value to a graph output name via Identity. */
  output(value: string, name: string): void {
    this.nodes.push({ opType: 'Identity', name: `Identity_${this.nodes.length}`, input: [value], output: [name], attribute: [] });
  }

  /** Serialise as an ONNX model. */
  build(opts: {
    name: string;
    inputs: GraphIO[];
    outputs: GraphIO[];
    docString?: string;
    metadata?: Record<string, string>;
    producerVersion?: string;
  }): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: ONNX_IR_VERSION,
      producerName: 'anomaly-lab',
      producerVersion: opts.producerVersion ?? '',
      docString: opts.docString ?? '',
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: opts.name,
        node: this.nodes,
        initializer: this.initializers,
        input: opts.inputs.map(valueInfo),
        output: opts.outputs.map(valueInfo),
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

export interface OnnxModelSummary {
  producer: string;
  opset: number;
  inputs: GraphIO[];
  outputs: GraphIO[];
  metadata: Record<string, string>;
  nodes: number;
}

/**
 * Decode an ONNX model's header and graph signature. Throws one line naming `source` when the
 * bytes are not an ONNX model (corrupt, truncated or another file type).
 */
export function describeOnnxModel(bytes: Uint8Array, source: string): OnnxModelSummary {
  let m: onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${source}: not an ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  const graph = m.graph;
  if (!graph || !m.opsetImport?.length || !graph.output?.length)
    throw new Error(`${source}: not an ONNX model (no graph, opset or outputs)`);
  const io = (v: onnx.IValueInfoProto): GraphIO => ({
    name: v.name ?? '',
    shape: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
  });
  const opset = m.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return {
    producer: m.producerName ?? '',
    opset: Number(opset?.version ?? 0),
    inputs: (graph.input ?? []).map(io),
    outputs: graph.output.map(io),
    metadata: Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    nodes: graph.node?.length ?? 0,
  };
}

/** Read an .onnx file and check it decodes (one-line error naming the file otherwise). */
export function readOnnxFile(file: string): { bytes: Uint8Array; summary: OnnxModelSummary } {
  if (!fs.existsSync(file)) throw new Error(`${file}: ONNX model not found`);
  const bytes = new Uint8Array(fs.readFileSync(file));
  return { bytes, summary: describeOnnxModel(bytes, file) };
}
