import { checkRevision, ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError } from './domain-error';

describe('Domain error', () => {
  it.each([
    ['ValidationError', 'invalid', new ValidationError('SEGMENT.INVALID_RULES', [])],
    ['NotFoundError', 'not_found', new NotFoundError('FEATURE.NOT_FOUND', 'Feature not found')],
    ['ConflictError', 'conflict', new ConflictError('FEATURE.NAME_TAKEN', 'Name taken')],
    ['PreconditionFailedError', 'precondition_failed', new PreconditionFailedError('feature', 1, 2)],
    ['ForbiddenError', 'forbidden', new ForbiddenError('ORGANISATION.NOT_A_MEMBER', 'Not a member')],
  ] as const)('%s has the kind %s', (_name, kind, error) => {
    expect(error.kind).toBe(kind);
  });

  it('is named after its class', () => {
    expect(new ConflictError('FEATURE.NAME_TAKEN', 'Name taken').name).toBe('ConflictError');
  });

  it('lists every rejected field of a validation error in its message and details', () => {
    const fields = [
      { field: 'name', message: 'is required' },
      { field: 'rules[0].type', message: 'must be one of ALL, ANY, NONE' },
    ];
    const error = new ValidationError('SEGMENT.INVALID', fields);
    expect(error.message).toBe('name: is required; rules[0].type: must be one of ALL, ANY, NONE');
    expect(error.details).toEqual({ fields });
    expect(error.fields).toEqual(fields);
  });

  describe('revision check', () => {
    it('passes without an expected revision', () => {
      expect(() => checkRevision('feature', undefined, 7)).not.toThrow();
    });

    it('passes when the expected revision is the actual one', () => {
      expect(() => checkRevision('feature', 7, 7)).not.toThrow();
    });

    it('fails with the entity\u2019s stale-revision code and both revisions', () => {
      let thrown: unknown;
      try {
        checkRevision('feature', 6, 7);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(PreconditionFailedError);
      expect(thrown).toMatchObject({ code: 'FEATURE.STALE_REVISION', message: 'feature is at revision 7, not 6', details: { expected: 6, actual: 7 } });
    });
  });
});
