export { type Shortage, shortages, totalsBySku, type WantedLine } from './domain/stock.ts';
export { inventoryService } from './service.ts';
