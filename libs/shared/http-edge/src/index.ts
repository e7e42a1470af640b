export { answerClientErrors, clientErrorAnswer, MAX_HEADER_BYTES, type ClientErrorAnswer } from './lib/client-errors';
export { jsonDepthExceeds, MAX_JSON_DEPTH } from './lib/json-depth';
export { jsonHasLoneSurrogate } from './lib/lone-surrogate';
