/** io: public API of this area (re-exported from the package root). */
export { writeFileAtomic, writeFileSynced, writeDirAtomic, cleanAtomicLeftovers } from './atomic';
export { parseNpy, readNpy, encodeNpy, writeNpy, toFloat32, toFloat64 } from './npy';
export type { NdArray, NdArrayData } from './npy';
export { loadSeries, sliceSeries, selectColumns, parseTimestamp, parseUtcOffset, writeCsv, writeParquet } from './series';
export type { Series, LoadSeriesOptions, NanPolicy, WritableSeries } from './series';
export { MinMaxScaler } from './scaler';
export type { MinMaxScalerJSON } from './scaler';
