/**
 * Synthetic three-phase recordings with faults at known intervals: the default data set for
 * demos, tests and workshops (no downloads, deterministic from a seed).
 *
 * Healthy system: balanced voltages v_p(t) = V·sin(ωt − φ_p), φ = 0, 2π/3, 4π/3, and load
 * currents lagging by the power-factor angle whose amplitude follows piecewise-constant load
 * steps (smoothed over a few cycles), plus a little 5th harmonic and white noise.
 *
 * Faults, as a source-impedance divider at the measuring point (a deliberately simple model, not
 * an EMT simulation), each with a depth d ∈ [0.6, 0.95] and a current gain g ∈ [3, 8]:
 *  - LG (phase x to ground): v_x ×(1 − d); i_x ×g with a decaying DC offset.
 *  - LL (x–y): v_x and v_y move to their mean (the short ties them), so they become equal;
 *    i_x = −i_y = g·I·sin(…) (the loop current returns through the other phase), no ground path.
 *  - LLG (x, y to ground): v_x, v_y ×(1 − d); i_x, i_y ×g; ground current i_x + i_y ≠ 0.
 *  - LLL: all voltages ×(1 − d) staying balanced; all currents ×g, balanced (zero sum).
 *  - LLLG: as LLL with unequal per-phase depths (fault resistances differ) and, through the
 *    ground path, zero-sequence components common to the three phases: voltage
 *    v0 = 0.7·V·d·sin(ωt − θ) and current i0 = 1.2·g·I·sin(ωt − θ − 1.4). (Real LLL and LLLG
 *    faults can be nearly indistinguishable from the 46 features; the generator makes the ground
 *    path visible on purpose, so the classes are learnable in a workshop.)
 * Transitions use a short ramp (~0.5 ms) so the onset is abrupt but not a single-sample jump.
 */
import { createRng, type Rng } from '../browser/random';
import { POWER_SIGNALS, powerDataFromColumns, type PowerData } from './data';

export const FAULT_TYPES = ['LG', 'LL', 'LLG', 'LLL', 'LLLG'] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

export interface InjectedFault {
  type: FaultType;
  /** Start and end time in seconds (the fault is active for start ≤ t < end). */
  start: number;
  end: number;
  /** Faulted phases (0 = a, 1 = b, 2 = c). */
  phases: number[];
  depth: number;
  gain: number;
}

export interface PowerSynthOptions {
  seed?: number;
  /** Nominal frequency, Hz (default 50). */
  frequency?: number;
  /** Samples per second (default 10 000). */
  sampleRate?: number;
  /** Total length in seconds (default 2). */
  duration?: number;
  /** Peak phase voltage (default 1, per unit). */
  voltage?: number;
  /** Peak load current at nominal load (default 100 A). */
  current?: number;
  /** White-noise std as a fraction of the peak value (default 0.01). */
  noise?: number;
  /** Number of load steps (default duration × 2). */
  loadChanges?: number;
  /** Relative load step size range (default 0.3: load moves within ±30%). */
  loadVariation?: number;
  /** Faults to inject: either explicit or a count drawn at random. */
  faults?: Array<Partial<InjectedFault> & { type: FaultType; start: number; end: number }>;
  nFaults?: number;
  /** Fault types drawn from (default all five, cycled so each appears). */
  faultTypes?: FaultType[];
  /** Fault duration range in seconds (default 0.04–0.1 s: 2–5 cycles at 50 Hz). */
  faultDuration?: [number, number];
  /** Minimum healthy time between faults and at the edges, seconds (default 0.25 s). */
  minSeparation?: number;
}

export interface PowerSynthResult {
  data: PowerData;
  faults: InjectedFault[];
  /** 1 inside a fault, per sample. */
  labels: Uint8Array;
  options: Required<Omit<PowerSynthOptions, 'faults' | 'nFaults'>> & { nFaults: number };
}

const PHASE_SHIFT = [0, (2 * Math.PI) / 3, (4 * Math.PI) / 3];

function drawPhases(type: FaultType, rng: Rng): number[] {
  if (type === 'LG') return [rng.int(0, 3)];
  if (type === 'LL' || type === 'LLG') {
    const skip = rng.int(0, 3);
    return [0, 1, 2].filter((p) => p !== skip);
  }
  return [0, 1, 2];
}

/** Non-overlapping random fault intervals with the required separation. */
function placeFaults(rng: Rng, n: number, duration: number, [dMin, dMax]: [number, number], sep: number): Array<[number, number]> {
  const slot = duration / n;
  if (slot < dMax + sep) {
    throw new Error(
      `synth: ${n} faults of up to ${dMax} s with ${sep} s separation do not fit in ${duration} s (increase duration or reduce n_faults)`,
    );
  }
  // One fault per equal slot, placed at random inside it: spread, non-overlapping, reproducible.
  const out: Array<[number, number]> = [];
  for (let k = 0; k < n; k++) {
    const len = dMin + (dMax - dMin) * rng.uniform();
    const lo = k * slot + sep / 2;
    const hi = (k + 1) * slot - sep / 2 - len;
    const start = lo + (hi - lo) * rng.uniform();
    out.push([start, start + len]);
  }
  return out;
}

/** Smooth 0→1→0 envelope of a fault interval (ramp of `ramp` seconds at each edge). */
function envelope(t: number, start: number, end: number, ramp: number): number {
  if (t < start || t >= end) return 0;
  return Math.min(1, (t - start) / ramp, (end - t) / ramp);
}

/** Generate a recording with faults. Deterministic for a given seed and options. */
export function generatePowerData(opts: PowerSynthOptions = {}): PowerSynthResult {
  const seed = opts.seed ?? 1;
  const f0 = opts.frequency ?? 50;
  const fs = opts.sampleRate ?? 10000;
  const duration = opts.duration ?? 2;
  const V = opts.voltage ?? 1;
  const I = opts.current ?? 100;
  const noise = opts.noise ?? 0.01;
  const loadChanges = opts.loadChanges ?? Math.round(duration * 2);
  const loadVariation = opts.loadVariation ?? 0.3;
  const faultTypes = opts.faultTypes ?? [...FAULT_TYPES];
  const faultDuration = opts.faultDuration ?? [0.04, 0.1];
  const minSeparation = opts.minSeparation ?? 0.25;
  for (const [name, v] of Object.entries({ frequency: f0, sample_rate: fs, duration, voltage: V, current: I })) {
    if (!(v > 0) || !Number.isFinite(v)) throw new Error(`synth: option ${name} must be a positive number, got ${v}`);
  }
  if (fs < 4 * f0) throw new Error(`synth: sample rate ${fs} Hz is too low for ${f0} Hz (need ≥ ${4 * f0})`);
  if (!(noise >= 0)) throw new Error(`synth: noise must be ≥ 0, got ${noise}`);
  for (const t of faultTypes)
    if (!FAULT_TYPES.includes(t)) throw new Error(`synth: unknown fault type '${t}' (choose from ${FAULT_TYPES.join(', ')})`);
  const rng = createRng(seed);
  const n = Math.round(duration * fs);
  const dt = 1 / fs;
  const w = 2 * Math.PI * f0;

  // Faults: explicit or drawn.
  let faults: InjectedFault[];
  if (opts.faults) {
    faults = opts.faults.map((f, i) => {
      if (!FAULT_TYPES.includes(f.type)) throw new Error(`synth: fault ${i} has unknown type '${f.type}'`);
      if (!(f.end > f.start) || f.start < 0 || f.end > duration)
        throw new Error(`synth: fault ${i} interval [${f.start}, ${f.end}) is not inside [0, ${duration})`);
      return {
        type: f.type,
        start: f.start,
        end: f.end,
        phases: f.phases ?? drawPhases(f.type, rng),
        depth: f.depth ?? 0.6 + 0.35 * rng.uniform(),
        gain: f.gain ?? 3 + 5 * rng.uniform(),
      };
    });
  } else {
    const nFaults = opts.nFaults ?? faultTypes.length;
    const spans = nFaults > 0 ? placeFaults(rng, nFaults, duration, faultDuration, minSeparation) : [];
    // Cycle through the types in a shuffled order so every type appears when n ≥ #types.
    const order = [...faultTypes];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    faults = spans.map(([start, end], k) => {
      const type = order[k % order.length];
      return { type, start, end, phases: drawPhases(type, rng), depth: 0.6 + 0.35 * rng.uniform(), gain: 3 + 5 * rng.uniform() };
    });
  }

  // Load profile: piecewise constant steps, smoothed over ~2 cycles (a load does not jump).
  const stepTimes = Array.from({ length: loadChanges }, () => rng.uniform() * duration).sort((a, b) => a - b);
  const stepLevels = [1, ...stepTimes.map(() => 1 + loadVariation * (2 * rng.uniform() - 1))];
  const pfAngle = 0.2 + 0.3 * rng.uniform(); // current lags voltage by 0.2–0.5 rad
  const harmonic = 0.02 + 0.02 * rng.uniform();
  const tau = 2 / f0;
  const phase0 = 2 * Math.PI * rng.uniform();

  const time = new Float64Array(n);
  const cols = POWER_SIGNALS.map(() => new Float64Array(n));
  const labels = new Uint8Array(n);
  let load = stepLevels[0];
  let stepIdx = 0;
  const ramp = 0.0005;
  // Per-fault constants: LLLG per-phase depths, DC offset sign and zero-sequence angle.
  const extras = faults.map((f) => ({
    phaseDepth: [0, 1, 2].map(() => (f.type === 'LLLG' ? Math.min(0.98, f.depth * (0.75 + 0.5 * rng.uniform())) : f.depth)),
    theta: 2 * Math.PI * rng.uniform(),
  }));
  for (let i = 0; i < n; i++) {
    const t = i * dt;
    time[i] = t;
    while (stepIdx < stepTimes.length && t >= stepTimes[stepIdx]) stepIdx++;
    load += (stepLevels[stepIdx] - load) * (dt / tau);
    const v = [0, 1, 2].map(
      (p) => V * (Math.sin(w * t + phase0 - PHASE_SHIFT[p]) + harmonic * Math.sin(5 * (w * t + phase0 - PHASE_SHIFT[p]))),
    );
    const cur = [0, 1, 2].map((p) => I * load * Math.sin(w * t + phase0 - PHASE_SHIFT[p] - pfAngle));
    for (let k = 0; k < faults.length; k++) {
      const f = faults[k];
      const e = envelope(t, f.start, f.end, ramp);
      if (e === 0) continue;
      labels[i] = 1;
      const ex = extras[k];
      const since = t - f.start;
      // Fault current: larger, more inductive (lags ~80°), plus the DC offset that keeps each phase
      // current continuous at inception (−the steady-state value then), decaying over ~1 cycle.
      // The three offsets sum to zero, so a balanced fault stays zero-sequence free.
      const faultI = (p: number): number => {
        const angle = phase0 - PHASE_SHIFT[p] - 1.4;
        return f.gain * I * (Math.sin(w * t + angle) - Math.sin(w * f.start + angle) * Math.exp(-since * f0));
      };
      const mix = (a: number, b: number): number => a + (b - a) * e;
      switch (f.type) {
        case 'LG': {
          const p = f.phases[0];
          v[p] = mix(v[p], v[p] * (1 - f.depth));
          cur[p] = mix(cur[p], faultI(p));
          break;
        }
        case 'LL': {
          const [x, y] = f.phases;
          const m = (v[x] + v[y]) / 2;
          v[x] = mix(v[x], m + (v[x] - m) * (1 - f.depth));
          v[y] = mix(v[y], m + (v[y] - m) * (1 - f.depth));
          // Loop current between x and y: equal and opposite.
          const loop = f.gain * I * Math.sin(w * t + phase0 - (PHASE_SHIFT[x] + PHASE_SHIFT[y]) / 2 - 1.4);
          cur[x] = mix(cur[x], loop);
          cur[y] = mix(cur[y], -loop);
          break;
        }
        case 'LLG':
          for (const p of f.phases) {
            v[p] = mix(v[p], v[p] * (1 - f.depth));
            cur[p] = mix(cur[p], faultI(p));
          }
          break;
        case 'LLL':
        case 'LLLG': {
          const ground = f.type === 'LLLG';
          const v0 = ground ? 0.7 * V * f.depth * Math.sin(w * t + phase0 - ex.theta) : 0;
          const i0 = ground ? 1.2 * f.gain * I * Math.sin(w * t + phase0 - ex.theta - 1.4) : 0;
          for (let p = 0; p < 3; p++) {
            const d = ex.phaseDepth[p];
            v[p] = mix(v[p], v[p] * (1 - d) + v0);
            cur[p] = mix(cur[p], faultI(p) * (ground ? 1 - f.depth + d : 1) + i0);
          }
          break;
        }
      }
    }
    for (let p = 0; p < 3; p++) {
      cols[p][i] = v[p] + noise * V * rng.normal();
      cols[p + 3][i] = cur[p] + noise * I * rng.normal();
    }
  }
  const data = powerDataFromColumns(`synthetic(seed=${seed})`, time, {
    Va: cols[0],
    Vb: cols[1],
    Vc: cols[2],
    Ia: cols[3],
    Ib: cols[4],
    Ic: cols[5],
  });
  return {
    data,
    faults,
    labels,
    options: {
      seed,
      frequency: f0,
      sampleRate: fs,
      duration,
      voltage: V,
      current: I,
      noise,
      loadChanges,
      loadVariation,
      faultTypes,
      faultDuration,
      minSeparation,
      nFaults: faults.length,
    },
  };
}

/** A fault-free recording (training data for the autoencoder). */
export function generateNormalPowerData(opts: Omit<PowerSynthOptions, 'faults' | 'nFaults'> = {}): PowerData {
  return generatePowerData({ ...opts, nFaults: 0 }).data;
}
