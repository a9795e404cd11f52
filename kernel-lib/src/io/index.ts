/** io: public API of this area (re-exported from the package root). */
export {
  writeFileAtomic,
  writeFileSynced,
  writeDirAtomic,
  writeFilesAtomic,
  cleanAtomicLeftovers,
  removeAtomicTemporaries,
  assertOutputPath,
  pathKind,
  fsyncDir,
  WriteError,
} from './atomic';
export { acquireDirLock, processStartTime, describeOwner, LockedError, LOCK_FILE } from './lock';
export type { DirLock, LockOwner } from './lock';
export { verifySha256 } from './hash';
export { checkSha256, sha256Hex, normaliseSha256 } from './integrity';
export { ZipArchive, crc32, looksLikeZip } from './zip';
export type { ZipEntryInfo } from './zip';
export { parseNpy, readNpy, encodeNpy, writeNpy, toFloat32, toFloat64 } from './npy';
export type { NdArray, NdArrayData, ParseNpyOptions } from './npy';
export { loadSeries, sliceSeries, concatSeries, selectColumns, parseTimestamp, parseUtcOffset, writeCsv, writeParquet } from './series';
export type { Series, LoadSeriesOptions, NanPolicy, WritableSeries } from './series';
export {
  readTable,
  parseCsvTable,
  writeTable,
  tableToCsv,
  tableToParquet,
  tableMatrix,
  requireColumns,
  parseCell,
  TableError,
  TABLE_EXTENSIONS,
  TIME_COLUMN_NAMES,
} from './table';
export type { Table, TableDtype, TableProblem, ReadTableOptions, WritableTable, WriteTableOptions } from './table';
export { MinMaxScaler } from './scaler';
export type { MinMaxScalerJSON } from './scaler';
