export * from './lib/environment-registry';
export * from './lib/served-environment';
export * from './lib/flagsmith-sdk.service';
export * from './lib/ofrep.service';
export * from './lib/sdk-answer';
export * from './lib/identify-request';
export * from './lib/environment-document.mapper';
export * from './lib/evaluation-context.mapper';
