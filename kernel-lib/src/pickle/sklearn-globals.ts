/**
 * The scikit-learn classes a joblib'd model may reference. Allowlisting a class here only lets the
 * VM create an inert `PyObject` carrying the pickled attributes: no scikit-learn code exists or
 * runs. `sklearn.ts` then maps the supported ones to TS models.
 */
import { PickleGlobal, PyObject } from './unpickler';

/** module → class names that are plain attribute bags when unpickled (NEWOBJ + BUILD). */
const ESTIMATOR_CLASSES: Record<string, string[]> = {
  'sklearn.preprocessing._data': ['StandardScaler', 'MinMaxScaler', 'MaxAbsScaler', 'RobustScaler'],
  'sklearn.preprocessing._label': ['LabelEncoder'],
  'sklearn.ensemble._forest': ['RandomForestClassifier', 'ExtraTreesClassifier', 'RandomForestRegressor', 'ExtraTreesRegressor'],
  'sklearn.tree._classes': ['DecisionTreeClassifier', 'ExtraTreeClassifier', 'DecisionTreeRegressor', 'ExtraTreeRegressor'],
};

/** Allowlist entries for the scikit-learn classes above plus the Cython `Tree` (REDUCE + BUILD). */
export function sklearnGlobals(): Record<string, PickleGlobal> {
  const globals: Record<string, PickleGlobal> = {};
  for (const [module, names] of Object.entries(ESTIMATOR_CLASSES)) {
    for (const cls of names) {
      const full = `${module}.${cls}`;
      globals[full] = { create: (args) => new PyObject(full, args) };
    }
  }
  // Tree.__reduce__ = (Tree, (n_features, n_classes, n_outputs), state): a "call" with constructor args.
  globals['sklearn.tree._tree.Tree'] = { call: (args) => new PyObject('sklearn.tree._tree.Tree', args) };
  return globals;
}
