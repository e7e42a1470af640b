/*
 * The SDK-facing API (Flagsmith's `/api/v1/...`) and OFREP (`/ofrep/v1/...`) in OpenAPI 3.0
 * terms; the OFREP shapes follow OpenFeature's `service/openapi.yaml` (open-feature/protocol). These routes are served by node:http handlers (libs/evaluation/http), not by NestJS, so
 * their path items are written here by hand and merged into the admin API's document.
 */

import type { SecuritySchemeObject } from '@nestjs/swagger';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema): Schema => ({ 'application/json': { schema } });
const answer = (description: string, schema?: Schema, headers?: Schema): Schema => ({
  description,
  ...(schema ? { content: json(schema) } : {}),
  ...(headers ? { headers } : {}),
});

const NULLABLE_VALUE: Schema = { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }], nullable: true };
const TRAIT_VALUE: Schema = { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

/** Schemas of the SDK and OFREP answers, keyed by their component name. */
export const SDK_SCHEMAS: Record<string, Schema> = {
  SdkError: {
    type: 'object',
    description: 'The admin API’s error shape, plus Flagsmith’s `detail`',
    required: ['detail', 'statusCode', 'error', 'code', 'message'],
    properties: {
      detail: { type: 'string' },
      statusCode: { type: 'integer' },
      error: { type: 'string' },
      code: { type: 'string' },
      message: { type: 'string' },
      errors: { type: 'array', items: ref('FieldErrorView') },
    },
  },
  SdkFeature: {
    type: 'object',
    required: ['id', 'name', 'type'],
    properties: {
      id: { type: 'integer' },
      name: { type: 'string' },
      created_date: { type: 'string', format: 'date-time', nullable: true },
      description: { type: 'string', nullable: true },
      initial_value: NULLABLE_VALUE,
      default_enabled: { type: 'boolean', nullable: true },
      type: { type: 'string', enum: ['STANDARD', 'MULTIVARIATE'] },
    },
  },
  SdkFlag: {
    type: 'object',
    description: 'Flagsmith’s `SDKFeatureStateSerializer` shape, plus `reason` and `variant`; ids are null when the environment hides sensitive data',
    required: ['id', 'feature', 'feature_state_value', 'environment', 'identity', 'feature_segment', 'enabled', 'reason', 'variant'],
    properties: {
      id: { type: 'integer', nullable: true },
      feature: ref('SdkFeature'),
      feature_state_value: NULLABLE_VALUE,
      environment: { type: 'integer', nullable: true },
      identity: { type: 'integer', nullable: true },
      feature_segment: { type: 'integer', nullable: true },
      enabled: { type: 'boolean' },
      reason: { type: 'string', description: 'DEFAULT, TARGETING_MATCH; segment=…, TARGETING_MATCH; segment=identity_overrides, SPLIT; weight=…' },
      variant: { type: 'string', nullable: true, description: 'The key of the multivariate option chosen, if any' },
    },
  },
  SdkTrait: {
    type: 'object',
    required: ['trait_key', 'trait_value'],
    properties: {
      trait_key: { type: 'string', minLength: 1, maxLength: 255 },
      trait_value: { ...TRAIT_VALUE, nullable: true, description: 'null removes the trait (requests only)' },
      transient: { type: 'boolean', description: 'Used for this evaluation only, never stored' },
    },
  },
  SdkIdentifyRequest: {
    type: 'object',
    properties: {
      identifier: { type: 'string', minLength: 1, maxLength: 2000, description: 'Without one, a transient identity is derived from the traits' },
      traits: { type: 'array', maxItems: 200, items: ref('SdkTrait') },
      transient: { type: 'boolean', description: 'Evaluate only: store neither the identity nor its traits' },
    },
  },
  SdkIdentity: {
    type: 'object',
    required: ['identifier', 'flags', 'traits'],
    properties: {
      identifier: { type: 'string' },
      flags: { type: 'array', items: ref('SdkFlag') },
      traits: { type: 'array', items: ref('SdkTrait'), description: 'Empty when the environment hides sensitive data' },
    },
  },
  EnvironmentDocument: {
    type: 'object',
    description: 'Flagsmith’s environment document, which Flagsmith’s server-side SDKs evaluate locally',
    required: ['id', 'api_key', 'name', 'project', 'feature_states', 'identity_overrides', 'updated_at'],
    properties: {
      id: { type: 'integer' },
      api_key: { type: 'string' },
      name: { type: 'string' },
      allow_client_traits: { type: 'boolean' },
      updated_at: { type: 'string', format: 'date-time' },
      hide_sensitive_data: { type: 'boolean' },
      hide_disabled_flags: { type: 'boolean', nullable: true },
      use_identity_composite_key_for_hashing: { type: 'boolean' },
      use_identity_overrides_in_local_eval: { type: 'boolean' },
      project: {
        type: 'object',
        required: ['id', 'name', 'organisation', 'segments'],
        properties: {
          id: { type: 'integer' },
          name: { type: 'string' },
          hide_disabled_flags: { type: 'boolean' },
          enable_realtime_updates: { type: 'boolean' },
          server_key_only_feature_ids: { type: 'array', items: { type: 'integer' } },
          organisation: {
            type: 'object',
            required: ['id', 'name'],
            properties: {
              id: { type: 'integer' },
              name: { type: 'string' },
              feature_analytics: { type: 'boolean' },
              stop_serving_flags: { type: 'boolean' },
              persist_trait_data: { type: 'boolean' },
            },
          },
          segments: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name', 'rules', 'feature_states'],
              properties: {
                id: { type: 'integer' },
                name: { type: 'string' },
                rules: { type: 'array', items: ref('EnvironmentDocumentRule') },
                feature_states: { type: 'array', items: ref('EnvironmentDocumentFeatureState') },
              },
            },
          },
        },
      },
      feature_states: { type: 'array', items: ref('EnvironmentDocumentFeatureState') },
      identity_overrides: {
        type: 'array',
        items: {
          type: 'object',
          required: ['identifier', 'identity_features'],
          properties: {
            identifier: { type: 'string' },
            environment_api_key: { type: 'string' },
            created_date: { type: 'string', format: 'date-time' },
            identity_uuid: { type: 'string' },
            django_id: { type: 'integer', nullable: true },
            composite_key: { type: 'string' },
            identity_traits: { type: 'array', items: ref('SdkTrait') },
            identity_features: { type: 'array', items: ref('EnvironmentDocumentFeatureState') },
          },
        },
      },
    },
  },
  EnvironmentDocumentRule: {
    type: 'object',
    required: ['type', 'rules', 'conditions'],
    properties: {
      type: { type: 'string', enum: ['ALL', 'ANY', 'NONE'] },
      rules: { type: 'array', items: ref('EnvironmentDocumentRule') },
      conditions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['operator'],
          properties: { operator: { type: 'string' }, value: { type: 'string', nullable: true }, property_: { type: 'string', nullable: true } },
        },
      },
    },
  },
  EnvironmentDocumentFeatureState: {
    type: 'object',
    required: ['feature', 'enabled', 'feature_state_value', 'multivariate_feature_state_values'],
    properties: {
      feature: {
        type: 'object',
        required: ['id', 'name', 'type'],
        properties: { id: { type: 'integer' }, name: { type: 'string' }, type: { type: 'string', enum: ['STANDARD', 'MULTIVARIATE'] } },
      },
      enabled: { type: 'boolean' },
      django_id: { type: 'integer', nullable: true },
      featurestate_uuid: { type: 'string' },
      feature_state_value: NULLABLE_VALUE,
      feature_segment: { type: 'object', nullable: true, required: ['priority'], properties: { priority: { type: 'integer' } } },
      multivariate_feature_state_values: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'percentage_allocation', 'multivariate_feature_option'],
          properties: {
            id: { type: 'integer' },
            mv_fs_value_uuid: { type: 'string' },
            percentage_allocation: { type: 'number', minimum: 0, maximum: 100 },
            multivariate_feature_option: {
              type: 'object',
              required: ['value'],
              properties: { id: { type: 'integer' }, value: NULLABLE_VALUE, key: { type: 'string' } },
            },
          },
        },
      },
    },
  },
  OfrepEvaluationRequest: {
    type: 'object',
    description: 'OpenFeature Remote Evaluation Protocol request',
    properties: {
      context: {
        type: 'object',
        description: '`targetingKey` is the identity; every other scalar attribute is a trait for this evaluation only',
        properties: { targetingKey: { type: 'string', maxLength: 2000 } },
        additionalProperties: true,
      },
    },
  },
  OfrepEvaluationSuccess: {
    type: 'object',
    required: ['key', 'value', 'reason', 'metadata'],
    properties: {
      key: { type: 'string' },
      value: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'object', additionalProperties: true }], description: 'The flag’s value, or its enabled state when it has none' },
      reason: { type: 'string', description: 'An OpenFeature reason: STATIC, DEFAULT, TARGETING_MATCH, SPLIT, ERROR or DISABLED here' },
      variant: { type: 'string' },
      metadata: {
        type: 'object',
        description: 'Flagsmith’s own reason (`flagsmithReason`), the enabled state and the feature id',
        additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
      },
    },
  },
  OfrepEvaluationFailure: {
    type: 'object',
    required: ['key', 'errorCode'],
    properties: {
      key: { type: 'string' },
      errorCode: { type: 'string', enum: ['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL'] },
      errorDetails: { type: 'string' },
    },
  },
  OfrepFlagNotFound: {
    type: 'object',
    required: ['key', 'errorCode'],
    properties: { key: { type: 'string' }, errorCode: { type: 'string', enum: ['FLAG_NOT_FOUND'] }, errorDetails: { type: 'string' } },
  },
  OfrepBulkEvaluationFailure: {
    type: 'object',
    required: ['errorCode'],
    properties: { errorCode: { type: 'string' }, errorDetails: { type: 'string' } },
  },
  OfrepBulkEvaluation: {
    type: 'object',
    required: ['flags'],
    properties: { flags: { type: 'array', items: { oneOf: [ref('OfrepEvaluationSuccess'), ref('OfrepEvaluationFailure')] } } },
  },
  OfrepConfiguration: {
    type: 'object',
    required: ['name', 'capabilities'],
    properties: {
      name: { type: 'string' },
      capabilities: {
        type: 'object',
        properties: {
          cacheInvalidation: {
            type: 'object',
            properties: { polling: { type: 'object', properties: { enabled: { type: 'boolean' }, minPollingIntervalMs: { type: 'number' } } } },
          },
          flagEvaluation: {
            type: 'object',
            properties: { supportedTypes: { type: 'array', items: { type: 'string', enum: ['int', 'float', 'string', 'boolean', 'object'] } } },
          },
        },
      },
    },
  },
  OfrepAuthError: {
    type: 'object',
    required: ['errorDetails'],
    properties: { errorDetails: { type: 'string' } },
  },
};

/** Security schemes of the SDK side; the admin API's `api-key` (`Authorization: Api-Key …`) is distinct. */
export const SDK_SECURITY_SCHEMES: Record<string, SecuritySchemeObject> = {
  'environment-key': { type: 'apiKey', in: 'header', name: 'X-Environment-Key', description: 'An environment’s client-side key, or a server-side key (`ser.…`)' },
  'ofrep-api-key': { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An environment key, as OFREP providers send it' },
  'ofrep-bearer': { type: 'http', scheme: 'bearer', description: 'An environment key as a bearer token' },
};

const SDK_SECURITY = [{ 'environment-key': [] }];
const OFREP_SECURITY = [{ 'ofrep-api-key': [] }, { 'ofrep-bearer': [] }, { 'environment-key': [] }];

const sdkError = (description: string): Schema => answer(description, ref('SdkError'));
/** Node's HTTP parser refuses a request (a header with control characters, say): 400 in the SDK error shape, on every route. */
const MALFORMED = 'A request that is not valid HTTP/1.1 (in the SDK error shape)';
const SDK_AUTH_ERRORS = {
  '401': sdkError('No environment key'),
  '403': sdkError('Unknown environment key'),
};
const OFREP_AUTH_ERRORS = {
  '401': answer('No environment key', ref('OfrepAuthError')),
  '403': answer('Unknown environment key', ref('OfrepAuthError')),
};
const TOO_LARGE = { '413': sdkError('The body is too large') };
const FEATURE_QUERY = { name: 'feature', in: 'query', required: false, schema: { type: 'string' }, description: 'One feature, by name' };

/** Path items of the SDK API and OFREP. */
export const SDK_PATHS: Record<string, Schema> = {
  '/api/v1/flags/': {
    get: {
      tags: ['sdk'],
      summary: 'The environment’s flags (a single flag with `?feature=`)',
      security: SDK_SECURITY,
      parameters: [FEATURE_QUERY],
      responses: {
        '200': answer('Every flag the key may see, or the one named', { oneOf: [{ type: 'array', items: ref('SdkFlag') }, ref('SdkFlag')] }),
        '400': sdkError(MALFORMED),
        ...SDK_AUTH_ERRORS,
        '404': sdkError('No feature of that name'),
      },
    },
  },
  '/api/v1/identities/': {
    get: {
      tags: ['sdk'],
      summary: 'Flags and traits of an identity (created when new)',
      security: SDK_SECURITY,
      parameters: [
        { name: 'identifier', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: 2000 } },
        { name: 'transient', in: 'query', required: false, schema: { type: 'boolean' }, description: 'Evaluate without storing the identity' },
        FEATURE_QUERY,
      ],
      responses: {
        '200': answer('The identity’s flags and traits', ref('SdkIdentity')),
        '400': sdkError(`No identifier, or a bad one; or ${MALFORMED.toLowerCase()}`),
        ...SDK_AUTH_ERRORS,
        '404': sdkError('No feature of that name'),
      },
    },
    post: {
      tags: ['sdk'],
      summary: 'Flags of an identity with these traits; the traits are stored unless transient (server keys, or where the environment allows client traits)',
      security: SDK_SECURITY,
      requestBody: { required: true, content: json(ref('SdkIdentifyRequest')) },
      responses: {
        '200': answer('The identity’s flags and traits', ref('SdkIdentity')),
        '400': sdkError('A bad body: every bad field is named'),
        ...SDK_AUTH_ERRORS,
        ...TOO_LARGE,
      },
    },
  },
  '/api/v1/environment-document/': {
    get: {
      tags: ['sdk'],
      summary: 'The environment document for local evaluation (server-side keys only)',
      security: SDK_SECURITY,
      parameters: [{ name: 'If-Modified-Since', in: 'header', required: false, schema: { type: 'string' } }],
      responses: {
        '200': answer('The document', ref('EnvironmentDocument'), { 'Last-Modified': { schema: { type: 'string' } } }),
        '304': { description: 'Not changed since If-Modified-Since' },
        '400': sdkError(MALFORMED),
        '401': sdkError('No environment key'),
        '403': sdkError('Unknown key, or a client-side key'),
      },
    },
  },
  '/api/v1/analytics/flags/': {
    post: {
      tags: ['sdk'],
      summary: 'Evaluation counts per feature name; unknown names and counts that are not positive integers are ignored',
      security: SDK_SECURITY,
      requestBody: { required: true, content: json({ type: 'object', additionalProperties: { type: 'integer', minimum: 1 } }) },
      responses: {
        '200': { description: 'Recorded (no body)' },
        '400': sdkError('The body is not an object'),
        ...SDK_AUTH_ERRORS,
        ...TOO_LARGE,
      },
    },
  },
  '/ofrep/v1/evaluate/flags/{key}': {
    post: {
      tags: ['ofrep'],
      summary: 'OFREP: evaluate one flag',
      security: OFREP_SECURITY,
      parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' }, description: 'The feature name' }],
      requestBody: { required: false, content: json(ref('OfrepEvaluationRequest')) },
      responses: {
        '200': answer('The evaluation', ref('OfrepEvaluationSuccess')),
        '400': answer(`A bad context, or a flag split by identity without a targeting key; or ${MALFORMED.toLowerCase()}`, {
          oneOf: [ref('OfrepEvaluationFailure'), ref('SdkError')],
        }),
        ...OFREP_AUTH_ERRORS,
        '404': answer('No flag of that key', ref('OfrepFlagNotFound')),
        ...TOO_LARGE,
      },
    },
  },
  '/ofrep/v1/configuration': {
    get: {
      tags: ['ofrep'],
      summary: 'OFREP: what this flag management system supports (polling interval, value types)',
      security: OFREP_SECURITY,
      responses: {
        '200': answer('The configuration', ref('OfrepConfiguration')),
        '400': sdkError(MALFORMED),
        ...OFREP_AUTH_ERRORS,
      },
    },
  },
  '/ofrep/v1/evaluate/flags': {
    post: {
      tags: ['ofrep'],
      summary: 'OFREP: evaluate every flag the key may see',
      security: OFREP_SECURITY,
      parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
      requestBody: { required: false, content: json(ref('OfrepEvaluationRequest')) },
      responses: {
        '200': answer('Every flag', ref('OfrepBulkEvaluation'), { ETag: { schema: { type: 'string' } } }),
        '304': { description: 'Not changed since the ETag in If-None-Match' },
        '400': answer(`A bad context; or ${MALFORMED.toLowerCase()}`, { oneOf: [ref('OfrepBulkEvaluationFailure'), ref('SdkError')] }),
        ...OFREP_AUTH_ERRORS,
        ...TOO_LARGE,
      },
    },
  },
};
