/**
 * Loading the dashboard's model files (scikit-learn joblib pickles or our JSON formats) with the
 * pickle area's safe reader, and checking each is the kind of model its role needs.
 */
import * as fs from 'fs';
import { ForestClassifierModel, LabelEncoderModel, loadSklearn, StandardScalerModel } from '../pickle/sklearn';
import { FieldError } from '../browser/errors';

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return (v as { constructor?: { name?: string } }).constructor?.name ?? 'an object';
  return typeof v;
}

function checkExists(file: string, role: string): void {
  if (!fs.existsSync(file)) throw new Error(`${file}: ${role} not found`);
}

/** A StandardScaler from .joblib/.save/.pkl (sklearn) or our scaler JSON. */
export async function loadPowerScaler(file: string, role = 'scaler'): Promise<StandardScalerModel> {
  checkExists(file, role);
  const v = await loadSklearn(file);
  if (!(v instanceof StandardScalerModel)) throw new Error(`${file}: expected a StandardScaler for the ${role}, found ${kindOf(v)}`);
  return v;
}

/** A random-forest / decision-tree classifier from joblib or our forest JSON. */
export async function loadPowerClassifier(file: string): Promise<ForestClassifierModel> {
  checkExists(file, 'classifier');
  const v = await loadSklearn(file);
  if (!(v instanceof ForestClassifierModel))
    throw new Error(`${file}: expected a RandomForestClassifier or DecisionTreeClassifier, found ${kindOf(v)}`);
  return v;
}

/**
 * Fault names: a joblib'd list/array of strings or LabelEncoder, a JSON list, or an inline
 * comma-separated list ("LG,LL,LLG,LLL,LLLG").
 */
export async function loadClassNames(spec: string): Promise<string[]> {
  if (!fs.existsSync(spec)) {
    if (/[\\/]|\.(joblib|json|pkl|save)$/i.test(spec)) throw new Error(`${spec}: class names file not found`);
    const names = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0) throw new FieldError('class_names', (f) => `${f('class_names')}: empty list`);
    return names;
  }
  const v = await loadSklearn(spec);
  if (v instanceof LabelEncoderModel) return v.classes.map(String);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.map(String);
  throw new Error(`${spec}: expected a list of class names or a LabelEncoder, found ${kindOf(v)}`);
}
