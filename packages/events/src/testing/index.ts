/**
 * Test helpers of the events SDK for other packages' tests (`@junction/events/testing`, resolved
 * from sources only: it is not part of the build). Private topics and subjects per test, records
 * read back, valid sample events.
 */
export { recordContext } from './contexts.ts';
export { countRecords, expectKeyOrder, type PrivateContracts, privateContracts, type ReadRecord, readRecords, until } from './contracts.ts';
export { sampleEvent, sampleOrderPlacedV1 } from './samples.ts';
