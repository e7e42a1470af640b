import { runService } from '@flagline/observability';
import { loadCommandServiceConfig, startCommandService } from './command-service';

runService('command-service', (logger) => startCommandService(loadCommandServiceConfig(), logger));
