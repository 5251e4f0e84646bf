export { createStandin, type LedgerEntry, type StandinOptions } from './standin.ts';
