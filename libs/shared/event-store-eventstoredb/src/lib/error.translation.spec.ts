import {
  AccessDeniedError,
  NO_STREAM,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
// The client's own conversions, so the errors below are built exactly as the client builds them.
import { WrongExpectedVersion } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb';
import { convertBridgeError } from '@kurrent/kurrentdb-client/dist/utils/convertBridgeError';
import { ConcurrencyError } from '@flagline/event-sourcing';
import { isStreamNotFound, toActualRevision, translateAppendError } from './error.translation';

describe('toActualRevision', () => {
  it('maps a revision to a number and a missing stream to null', () => {
    expect(toActualRevision(7n)).toBe(7);
    expect(toActualRevision(NO_STREAM)).toBeNull();
    expect(toActualRevision(-1n)).toBeNull();
  });
});

describe('translateAppendError', () => {
  it('turns the wrong-expected-version error of a unary append into a ConcurrencyError', () => {
    // append.js builds it this way from the AppendResp.
    const error = new WrongExpectedVersionError(undefined, { streamName: 'feature-1', expected: 0n, current: 1n });
    const translated = translateAppendError(error, 'feature-1', 0);
    expect(translated).toBeInstanceOf(ConcurrencyError);
    expect(translated).toMatchObject({ streamName: 'feature-1', expected: 0, actual: 1 });
  });

  it('turns the wrong-expected-version error of a batch append into a ConcurrencyError', () => {
    // batchAppend.js unpacks the server's WrongExpectedVersion details this way.
    const details = new WrongExpectedVersion().setExpectedStreamPosition('3').setCurrentStreamRevision('5');
    const error = WrongExpectedVersionError.fromWrongExpectedVersion(details, 'feature-1');
    expect(translateAppendError(error, 'feature-1', 3)).toMatchObject({ streamName: 'feature-1', expected: 3, actual: 5 });
  });

  it('reports a missing stream as actual null', () => {
    const details = new WrongExpectedVersion().setExpectedStreamPosition('0');
    const error = WrongExpectedVersionError.fromWrongExpectedVersion(details, 'feature-2');
    expect(error.actualState).toBe(NO_STREAM);
    expect(translateAppendError(error, 'feature-2', 'stream_exists')).toMatchObject({ expected: 'stream_exists', actual: null });
  });

  it('handles the v2 revision-conflict form', () => {
    const error = WrongExpectedVersionError.fromRevisionConflict({ stream: 'feature-3', expectedRevision: '-1', actualRevision: '4' });
    expect(translateAppendError(error, 'feature-3', 'no_stream')).toMatchObject({ expected: 'no_stream', actual: 4 });
  });

  it('keeps the expected revision the caller gave, not the client’s bigint', () => {
    const error = new WrongExpectedVersionError(undefined, { streamName: 'feature-1', expected: 2n, current: 9n });
    const translated = translateAppendError(error, 'feature-1', 2) as ConcurrencyError;
    expect(translated.expected).toBe(2);
  });

  it('passes other errors through unchanged', () => {
    const denied = new AccessDeniedError();
    const deleted = StreamDeletedError.fromStreamName('feature-1');
    const plain = new Error('socket hang up');
    expect(translateAppendError(denied, 'feature-1', 'any')).toBe(denied);
    expect(translateAppendError(deleted, 'feature-1', 'any')).toBe(deleted);
    expect(translateAppendError(plain, 'feature-1', 'any')).toBe(plain);
  });
});

describe('isStreamNotFound', () => {
  it('recognises the error a read of a missing stream ends with', () => {
    // readStream.js converts the native bridge's error this way.
    const bridgeError = Object.assign(new Error('stream not found'), { name: 'StreamNotFoundError' });
    expect(isStreamNotFound(convertBridgeError(bridgeError, 'feature-1'))).toBe(true);
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 'feature-1'))).toBe(true);
  });

  it('does not mistake other failures for a missing stream', () => {
    const unavailable = convertBridgeError(Object.assign(new Error('connection refused'), { name: 'UnavailableError' }), 'feature-1');
    expect(isStreamNotFound(unavailable)).toBe(false);
    expect(isStreamNotFound(new Error('stream not found'))).toBe(false);
    expect(isStreamNotFound('StreamNotFoundError')).toBe(false);
  });
});
