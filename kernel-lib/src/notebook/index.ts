/** notebook: public API of this area (re-exported from the package root). */
export {};
