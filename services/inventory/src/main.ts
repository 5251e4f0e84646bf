import { runService } from '@junction/service';
import { inventoryService } from './service.ts';

await runService(inventoryService);
