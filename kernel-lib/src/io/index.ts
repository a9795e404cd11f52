/** io: public API of this area (re-exported from the package root). */
export { writeFileAtomic, writeDirAtomic, cleanAtomicLeftovers } from './atomic';
