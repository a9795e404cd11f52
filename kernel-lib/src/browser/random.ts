/**
 * Seeded pseudo-random numbers, identical on every platform (only 32-bit integer arithmetic via
 * Math.imul and >>>, no Math.random). Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting
 * RNG, passes PractRand), seeded through splitmix32 so nearby seeds give unrelated streams.
 * Normals: Box–Muller, caching the second variate. The full state (including the cached normal)
 * can be saved and restored so interrupted training resumes with the same random stream.
 */

export interface RngState {
  /** sfc32 words a, b, c, counter (uint32). */
  s: [number, number, number, number];
  /** cached second Box–Muller variate (standard normal), or null */
  spare: number | null;
}

export interface Rng {
  /** Uniform double in [0, 1) with 32 bits of randomness. */
  uniform(): number;
  /** Normal variate N(mean, std²). */
  normal(mean?: number, std?: number): number;
  /** Integer uniform in [lo, hiExclusive). Throws when the range is empty. */
  int(lo: number, hiExclusive: number): number;
  /** A uniformly chosen element. Throws on an empty array. */
  choice<T>(arr: ArrayLike<T>): T;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T, A extends { length: number; [i: number]: T }>(arr: A): A;
  /** Raw uint32 output. */
  nextUint32(): number;
  /** Snapshot of the generator state (JSON-serialisable). */
  state(): RngState;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function makeRng(init: RngState): Rng {
  let [a, b, c, d] = init.s;
  let spare: number | null = init.spare;

  const nextUint32 = (): number => {
    // sfc32
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = (b ^ (b >>> 9)) >>> 0;
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  const uniform = (): number => nextUint32() / 4294967296;

  const rng: Rng = {
    nextUint32,
    uniform,
    normal(mean = 0, std = 1): number {
      if (spare !== null) {
        const z = spare;
        spare = null;
        return mean + std * z;
      }
      // 1 - u lies in (0, 1], so the log is finite.
      const u1 = 1 - uniform();
      const u2 = uniform();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return mean + std * r * Math.cos(2 * Math.PI * u2);
    },
    int(lo: number, hiExclusive: number): number {
      if (!(hiExclusive > lo)) throw new Error(`rng.int: empty range [${lo}, ${hiExclusive})`);
      return lo + Math.floor(uniform() * (hiExclusive - lo));
    },
    choice<T>(arr: ArrayLike<T>): T {
      if (arr.length === 0) throw new Error('rng.choice: empty array');
      return arr[Math.floor(uniform() * arr.length)];
    },
    shuffle<T, A extends { length: number; [i: number]: T }>(arr: A): A {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = Math.floor(uniform() * (i + 1));
        const t = arr[i];
        arr[i] = arr[j];
        arr[j] = t;
      }
      return arr;
    },
    state(): RngState {
      return { s: [a, b, c, d], spare };
    },
  };
  return rng;
}

/** A deterministic generator for `seed` (any number; only its low 32 bits are used). */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new Error(`createRng: seed must be a finite number, got ${seed}`);
  const sm = splitmix32(Math.trunc(seed) >>> 0);
  const rng = makeRng({ s: [sm(), sm(), sm(), 1], spare: null });
  // Discard the first outputs: sfc32's authors recommend warming up the state.
  for (let i = 0; i < 12; i++) rng.nextUint32();
  return rng;
}

/** Continue a generator from a saved `rng.state()`. */
export function restoreRng(state: RngState): Rng {
  if (!state || !Array.isArray(state.s) || state.s.length !== 4 || state.s.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
    throw new Error('restoreRng: state must be { s: [4 uint32], spare: number|null }');
  }
  return makeRng({ s: [state.s[0], state.s[1], state.s[2], state.s[3]], spare: state.spare ?? null });
}
