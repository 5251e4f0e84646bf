import { runService } from '@junction/service';
import { notificationsService } from './service.ts';

await runService(notificationsService);
