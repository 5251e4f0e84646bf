import { runService } from '@junction/service';
import { ordersService } from './service.ts';

await runService(ordersService);
