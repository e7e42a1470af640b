import { runService } from '@flagline/observability';
import { loadRelayConfig, startRelay } from './relay.service';

runService('relay', (logger) => startRelay(loadRelayConfig(), logger));
