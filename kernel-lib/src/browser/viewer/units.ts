/**
 * Physical units of well-known columns, so bundles carry units without every caller passing them:
 * the viewer draws each unit (and each scale within a unit) in its own panel, and a 0.02 V
 * voltage gap is not a flat line under an 800 V bank voltage. Exact names of the data this project
 * reads first (the seed's power-system Va..Ic, the ESS BMS columns), then conservative name
 * patterns; a column nothing matches gets '' (unknown unit).
 */
const EXACT: Record<string, string> = {
  Va: 'V',
  Vb: 'V',
  Vc: 'V',
  Ia: 'A',
  Ib: 'A',
  Ic: 'A',
  BANK_DC_VOLT: 'V',
  BANK_DC_CURRENT: 'A',
  BANK_SOC: '%',
  BANK_SOH: '%',
  MAX_CELL_TEMPERATURE_OF_BANK: '°C',
  MIN_CELL_TEMPERATURE_OF_BANK: '°C',
  VOLTAGE_GAP: 'V',
  MAX_CELL_VOLTAGE_OF_BANK: 'V',
  MIN_CELL_VOLTAGE_OF_BANK: 'V',
  voltage: 'V',
  current: 'A',
  soc: '%',
  temperature: '°C',
};

const PATTERNS: Array<[RegExp, string]> = [
  [/(^|[_\s-])(volt|voltage)s?([_\s-]|$)|_VOLT(AGE)?(_|$)/i, 'V'],
  [/(^|[_\s-])(current|amps?)([_\s-]|$)/i, 'A'],
  [/(^|[_\s-])soc([_\s-]|$)|state[_\s-]of[_\s-]charge/i, '%'],
  [/temp(erature)?/i, '°C'],
];

/** The unit of one column name ('' when unknown). */
export function inferUnit(column: string): string {
  if (Object.prototype.hasOwnProperty.call(EXACT, column)) return EXACT[column];
  for (const [re, unit] of PATTERNS) if (re.test(column)) return unit;
  return '';
}

/** Units for `columns`, or undefined when no column has a known unit (nothing to add). */
export function inferUnits(columns: readonly string[]): string[] | undefined {
  const units = columns.map(inferUnit);
  return units.some((u) => u !== '') ? units : undefined;
}
