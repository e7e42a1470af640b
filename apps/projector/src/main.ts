import { runService } from '@flagline/observability';
import { loadProjectorConfig, startProjector } from './projector.service';

runService('projector', (logger) => startProjector(loadProjectorConfig(), logger));
