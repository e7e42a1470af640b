export { answerClientErrors, clientErrorAnswer, type ClientErrorAnswer } from './lib/client-errors';
export { jsonDepthExceeds, MAX_JSON_DEPTH } from './lib/json-depth';
