import { parseJsonKeepingFloats, stringifyJsonKeepingFloats } from '@flagline/python-compat';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';

const RAW_BODY = Symbol('rawJsonBody');

type WithRawBody = IncomingMessage & { [RAW_BODY]?: Buffer };

/** Routes whose bodies carry trait values: identity creation, trait changes, identify calls from evaluation services, explained evaluation. */
const TRAIT_BODY_PATH = /\/(?:identities(?:\/[^/]+\/traits)?|evaluate)\/?$/;

/** For `express.json({ verify })`: keeps the body's bytes so that trait routes can read numbers as written. */
export function keepRawJsonBody(request: IncomingMessage, _response: unknown, body: Buffer): void {
  (request as WithRawBody)[RAW_BODY] = body;
}

/**
 * On routes whose bodies carry trait values, reads the JSON body again keeping a number written
 * `5.0` a float (a `FloatNumber`), as Flagsmith (Python's JSON) keeps it: `JSON.parse` gives `5`.
 * Other routes keep `JSON.parse`'s values.
 */
export function traitBodiesKeepFloats(request: Request, _response: Response, next: NextFunction): void {
  const raw = (request as WithRawBody)[RAW_BODY];
  // An empty body is `{}` to the JSON parser (and then a 400 naming what is missing): nothing to read again.
  if (raw !== undefined && raw.length > 0 && request.method !== 'GET' && TRAIT_BODY_PATH.test(request.path)) request.body = parseJsonKeepingFloats(raw.toString('utf8'));
  next();
}

/** JSON responses write a trait stored as a float with an integral value as `5.0`, not `5`. */
export function floatJsonResponses(_request: Request, response: Response, next: NextFunction): void {
  response.json = function json(this: Response, body: unknown): Response {
    if (!this.get('Content-Type')) this.set('Content-Type', 'application/json');
    return this.send(stringifyJsonKeepingFloats(body));
  };
  next();
}
