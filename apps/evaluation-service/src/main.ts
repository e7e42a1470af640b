import { runService } from '@flagline/observability';
import { loadEvaluationServiceConfig, startEvaluationService } from './evaluation-service';

runService('evaluation-service', (logger) => startEvaluationService(loadEvaluationServiceConfig(), logger));
