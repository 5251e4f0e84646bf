import { runService } from '@junction/service';
import { billingService } from './service.ts';

await runService(billingService);
