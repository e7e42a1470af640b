import { foldEvents } from '@flagline/event-sourcing';
import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated, aSegmentCreated } from '../../testing/admin-event.builders';
import { ConflictError, ValidationError, type DomainError } from '../shared/domain-error';
import type { SegmentRule } from '../segment/segment-rule';
import { featureDependencies } from './feature-dependencies';
import { projectDecider } from './project.decider';
import type { ProjectEvent } from './project.events';
import type { Project } from './project.state';

const NOW = '2026-02-01T10:00:00.000Z';
const NEW_UI = 30;
const CHECKOUT = 32;
const PAYMENTS = 34;
const DEV = 20;
const LIVE = 21;

const fold = (events: readonly ProjectEvent[]): Project => foldEvents(projectDecider, projectDecider.initialState(), events, 0);

/** Rules of one ALL rule: a plan condition, then a read of `property` equal to "true". */
const reading = (...properties: string[]): SegmentRule[] => [
  {
    type: 'ALL',
    rules: [],
    conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }, ...properties.map((property) => ({ property, operator: 'EQUAL' as const, value: 'true' }))],
  },
];
const plain: SegmentRule[] = [{ type: 'ALL', rules: [], conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }];

const overrideCreated = (environmentId: number, featureId: number, segmentId: number, featureStateId: number): ProjectEvent => ({
  type: 'SegmentOverrideCreated',
  data: { projectId: 10, environmentId, featureId, segmentId, featureStateId, enabled: true, value: null, allocations: [], priority: 0 },
});

/** Project 10 with environments Development (20) and Live (21) and features new_ui, checkout, payments. */
const base: ProjectEvent[] = [
  aProjectCreated(),
  anEnvironmentCreated(),
  anEnvironmentCreated({ environmentId: LIVE, name: 'Live', apiKey: 'client-key-live' }),
  aFeatureCreated({ featureId: NEW_UI, name: 'new_ui', environmentStates: [] }),
  aFeatureCreated({ featureId: CHECKOUT, name: 'checkout', environmentStates: [] }),
  aFeatureCreated({ featureId: PAYMENTS, name: 'payments', environmentStates: [] }),
];

/** checkout reads new_ui: segment 40 reads `$.flags.new_ui.enabled` and overrides checkout in Development. */
const checkoutReadsNewUi: ProjectEvent[] = [
  ...base,
  aSegmentCreated({ segmentId: 40, name: 'new ui users', rules: reading('$.flags.new_ui.enabled') }),
  overrideCreated(DEV, CHECKOUT, 40, 70),
];

const withCode = (code: string, check: (error: DomainError) => void = () => undefined) => (error: Error) => {
  expect((error as DomainError).code).toBe(code);
  check(error as DomainError);
};

describe('Flag dependencies', () => {
  const spec = deciderSpecification(projectDecider);

  describe('segment rules reading flags', () => {
    it('accepts reads of existing features, in dotted and bracket notation', () => {
      const rules = reading('$.flags.new_ui.enabled', "$.flags['checkout'].value");
      spec(base)
        .when({ type: 'CreateSegment', segmentId: 40, name: 'readers', description: '', rules, now: NOW })
        .then(aSegmentCreated({ segmentId: 40, name: 'readers', rules, createdAt: NOW }));
    });

    it('refuses a read of a feature the project does not have, naming the condition property', () => {
      spec(base)
        .when({ type: 'CreateSegment', segmentId: 40, name: 'readers', description: '', rules: reading('$.flags.new_ui.enabled', '$.flags.ghost.value'), now: NOW })
        .thenThrows(
          ValidationError,
          withCode('SEGMENT.DEPENDENCY_UNKNOWN_FEATURE', (error) =>
            expect((error as ValidationError).fields).toEqual([
              { field: 'rules[0].conditions[2].property', message: 'reads feature "ghost", which does not exist in this project' },
            ]),
          ),
        );
    });

    it('names reads case-sensitively, as the engine does, and suggests the feature meant', () => {
      spec([...base, aSegmentCreated({ segmentId: 40, rules: plain })])
        .when({ type: 'ChangeSegment', segmentId: 40, rules: reading('$.flags.New_UI.enabled') })
        .thenThrows(
          ValidationError,
          withCode('SEGMENT.DEPENDENCY_UNKNOWN_FEATURE', (error) =>
            expect((error as ValidationError).fields[0]?.message).toBe(
              'reads feature "New_UI", which does not exist in this project (names are case-sensitive here: did you mean "new_ui"?)',
            ),
          ),
        );
    });

    it('finds reads in nested rules', () => {
      const nested: SegmentRule[] = [{ type: 'ALL', conditions: [], rules: [{ type: 'ANY', rules: [], conditions: [{ property: '$.flags.nope.enabled', operator: 'EQUAL', value: 'true' }] }] }];
      spec([...base, aSegmentCreated({ segmentId: 40, rules: plain })])
        .when({ type: 'ChangeSegment', segmentId: 40, rules: nested })
        .thenThrows(ValidationError, (error) => expect((error as ValidationError).fields.map((f) => f.field)).toEqual(['rules[0].rules[0].conditions[0].property']));
    });
  });

  describe('cycles', () => {
    it('refuses a rule change that closes a cycle, naming it', () => {
      // new_ui is overridden by segment 41, which starts reading checkout: checkout → new_ui → checkout.
      spec([...checkoutReadsNewUi, aSegmentCreated({ segmentId: 41, name: 'checkout users', rules: plain }), overrideCreated(DEV, NEW_UI, 41, 71)])
        .when({ type: 'ChangeSegment', segmentId: 41, rules: reading('$.flags.checkout.enabled') })
        .thenThrows(
          ConflictError,
          withCode('FEATURE.DEPENDENCY_CYCLE', (error) => {
            expect(error.message).toBe('Flag dependencies may not form a cycle: new_ui → checkout → new_ui');
            expect(error.details).toEqual({ cycle: [{ id: NEW_UI, name: 'new_ui' }, { id: CHECKOUT, name: 'checkout' }, { id: NEW_UI, name: 'new_ui' }] });
          }),
        );
    });

    it('refuses a new segment override that closes a cycle', () => {
      spec([...checkoutReadsNewUi, aSegmentCreated({ segmentId: 41, name: 'checkout users', rules: reading('$.flags.checkout.enabled') })])
        .when({ type: 'CreateSegmentOverride', environmentId: DEV, featureId: NEW_UI, segmentId: 41, featureStateId: 71, enabled: true, value: null })
        .thenThrows(ConflictError, withCode('FEATURE.DEPENDENCY_CYCLE', (error) => expect(error.message).toContain('new_ui → checkout → new_ui')));
    });

    it('counts overrides of every environment: a cycle split across two environments is refused too', () => {
      spec([...checkoutReadsNewUi, aSegmentCreated({ segmentId: 41, name: 'checkout users', rules: reading('$.flags.checkout.enabled') })])
        .when({ type: 'CreateSegmentOverride', environmentId: LIVE, featureId: NEW_UI, segmentId: 41, featureStateId: 71, enabled: true, value: null })
        .thenThrows(ConflictError, withCode('FEATURE.DEPENDENCY_CYCLE'));
    });

    it('refuses a feature depending on itself', () => {
      spec([...base, aSegmentCreated({ segmentId: 40, name: 'checkout on', rules: reading('$.flags.checkout.value') })])
        .when({ type: 'CreateSegmentOverride', environmentId: DEV, featureId: CHECKOUT, segmentId: 40, featureStateId: 70, enabled: true, value: null })
        .thenThrows(
          ConflictError,
          withCode('FEATURE.DEPENDENCY_CYCLE', (error) => expect(error.message).toBe('Flag dependencies may not form a cycle: checkout → checkout')),
        );
      spec([...base, aSegmentCreated({ segmentId: 40, rules: plain }), overrideCreated(DEV, CHECKOUT, 40, 70)])
        .when({ type: 'ChangeSegment', segmentId: 40, rules: reading('$.flags.checkout.enabled') })
        .thenThrows(ConflictError, withCode('FEATURE.DEPENDENCY_CYCLE'));
    });

    it('refuses a three-feature cycle', () => {
      // checkout → new_ui (segment 40); payments → checkout (segment 41); new_ui reading payments closes it.
      spec([
        ...checkoutReadsNewUi,
        aSegmentCreated({ segmentId: 41, name: 'checkout users', rules: reading('$.flags.checkout.enabled') }),
        overrideCreated(DEV, PAYMENTS, 41, 71),
        aSegmentCreated({ segmentId: 42, name: 'payers', rules: reading("$.flags['payments'].value") }),
      ])
        .when({ type: 'CreateSegmentOverride', environmentId: LIVE, featureId: NEW_UI, segmentId: 42, featureStateId: 72, enabled: true, value: null })
        .thenThrows(ConflictError, withCode('FEATURE.DEPENDENCY_CYCLE', (error) => expect(error.message).toContain('new_ui → payments → checkout → new_ui')));
    });

    it('allows chains and diamonds', () => {
      // payments reads checkout and new_ui; checkout reads new_ui: no cycle.
      spec([...checkoutReadsNewUi, aSegmentCreated({ segmentId: 41, name: 'both', rules: reading('$.flags.checkout.enabled', '$.flags.new_ui.value') })])
        .when({ type: 'CreateSegmentOverride', environmentId: DEV, featureId: PAYMENTS, segmentId: 41, featureStateId: 71, enabled: true, value: null })
        .then({
          type: 'SegmentOverrideCreated',
          data: { projectId: 10, environmentId: DEV, featureId: PAYMENTS, segmentId: 41, featureStateId: 71, enabled: true, value: null, allocations: [], priority: 0 },
        });
    });

    it('refuses renaming a feature to a name an existing segment already reads, when that closes a cycle', () => {
      // Segment 41 reads "shipping" (stored before such checks existed) and overrides new_ui; checkout becoming "shipping" would close new_ui → checkout → new_ui.
      spec([...checkoutReadsNewUi, aSegmentCreated({ segmentId: 41, rules: reading('$.flags.shipping.enabled') }), overrideCreated(DEV, NEW_UI, 41, 71)])
        .when({ type: 'ChangeFeature', featureId: CHECKOUT, name: 'shipping' })
        .thenThrows(ConflictError, withCode('FEATURE.DEPENDENCY_CYCLE', (error) => expect(error.message).toContain('new_ui → shipping → new_ui')));
    });
  });

  describe('features others depend on', () => {
    it('cannot be deleted, and the error names the dependants and the segments', () => {
      spec(checkoutReadsNewUi)
        .when({ type: 'DeleteFeature', featureId: NEW_UI })
        .thenThrows(
          ConflictError,
          withCode('FEATURE.HAS_DEPENDENTS', (error) => {
            expect(error.message).toBe(`Feature "new_ui" cannot be deleted: feature(s) "checkout" depend on it; segment(s) "new ui users" read it; change those segments' rules first`);
            expect(error.details).toEqual({ dependents: [{ id: CHECKOUT, name: 'checkout' }], segments: [{ id: 40, name: 'new ui users' }] });
          }),
        );
    });

    it('cannot be deleted while a segment reads it, even one no override uses', () => {
      spec([...base, aSegmentCreated({ segmentId: 40, name: 'new ui users', rules: reading('$.flags.new_ui.enabled') })])
        .when({ type: 'DeleteFeature', featureId: NEW_UI })
        .thenThrows(ConflictError, withCode('FEATURE.HAS_DEPENDENTS', (error) => expect(error.details).toEqual({ dependents: [], segments: [{ id: 40, name: 'new ui users' }] })));
    });

    it('can be deleted once the segment no longer reads it', () => {
      spec([...checkoutReadsNewUi, { type: 'SegmentRuleChanged', data: { projectId: 10, segmentId: 40, rules: plain } }])
        .when({ type: 'DeleteFeature', featureId: NEW_UI })
        .then({ type: 'FeatureDeleted', data: { projectId: 10, featureId: NEW_UI } });
      spec([...checkoutReadsNewUi, { type: 'SegmentDeleted', data: { projectId: 10, segmentId: 40 } }])
        .when({ type: 'DeleteFeature', featureId: NEW_UI })
        .then({ type: 'FeatureDeleted', data: { projectId: 10, featureId: NEW_UI } });
    });

    it('cannot be renamed (segments read flags by name), while a feature nothing reads can', () => {
      spec(checkoutReadsNewUi).when({ type: 'ChangeFeature', featureId: NEW_UI, name: 'new_ui_v2' }).thenThrows(ConflictError, withCode('FEATURE.HAS_DEPENDENTS'));
      spec(checkoutReadsNewUi)
        .when({ type: 'ChangeFeature', featureId: CHECKOUT, name: 'checkout_v2' })
        .then([{ type: 'FeatureRenamed', data: { projectId: 10, featureId: CHECKOUT, name: 'checkout_v2' } }]);
    });

    it('can be archived: archived features are still evaluated, so the dependants keep working', () => {
      spec(checkoutReadsNewUi)
        .when({ type: 'ChangeFeature', featureId: NEW_UI, isArchived: true })
        .then([{ type: 'FeatureArchived', data: { projectId: 10, featureId: NEW_UI } }]);
    });
  });

  describe('the graph', () => {
    it('has an edge per overridden feature and read, through each segment, in each environment', () => {
      const project = fold([
        ...checkoutReadsNewUi,
        overrideCreated(LIVE, CHECKOUT, 40, 71),
        overrideCreated(LIVE, PAYMENTS, 40, 72),
        aSegmentCreated({ segmentId: 41, name: 'unused reader', rules: reading('$.flags.new_ui.value') }),
      ]);
      const graph = featureDependencies(project);
      expect(graph.dependsOn(CHECKOUT)).toEqual([{ featureId: NEW_UI, via: [{ segmentId: 40, environmentIds: [DEV, LIVE] }] }]);
      expect(graph.dependsOn(PAYMENTS)).toEqual([{ featureId: NEW_UI, via: [{ segmentId: 40, environmentIds: [LIVE] }] }]);
      expect(graph.dependents(NEW_UI)).toEqual([
        { featureId: CHECKOUT, via: [{ segmentId: 40, environmentIds: [DEV, LIVE] }] },
        { featureId: PAYMENTS, via: [{ segmentId: 40, environmentIds: [LIVE] }] },
      ]);
      expect(graph.segmentsReading(NEW_UI)).toEqual([40, 41]);
      expect(graph.dependsOn(NEW_UI)).toEqual([]);
    });

    it('loses the edge when the override goes', () => {
      const project = fold([...checkoutReadsNewUi, { type: 'SegmentOverrideRemoved', data: { projectId: 10, environmentId: DEV, featureId: CHECKOUT, segmentId: 40 } }]);
      expect(featureDependencies(project).dependents(NEW_UI)).toEqual([]);
    });
  });
});
