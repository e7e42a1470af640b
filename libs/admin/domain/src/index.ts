export * from './lib/shared/domain-error';
export * from './lib/shared/values';
export * from './lib/shared/api-key';
export * from './lib/segment/segment-rule';
export * from './lib/segment/flag-reference';
export * from './lib/streams';
export * from './lib/user/user.events';
export * from './lib/user/user.commands';
export * from './lib/user/user.decider';
export * from './lib/organisation/organisation.events';
export * from './lib/organisation/organisation.commands';
export * from './lib/organisation/organisation.decider';
export * from './lib/organisation/invitation';
export * from './lib/project/project.state';
export * from './lib/project/project.events';
export * from './lib/project/project.commands';
export * from './lib/project/project.decider';
export * from './lib/project/project.evolve';
export { checkAllocations, isFeatureNameTaken } from './lib/project/project.guards';
export { cloneSize } from './lib/project/environment.decide';
export { featureDependencies, FeatureDependencies, type DependencyVia, type FeatureDependency } from './lib/project/feature-dependencies';
export * from './lib/identity/identity.events';
export * from './lib/identity/identity.events.v1';
export * from './lib/identity/identity.commands';
export * from './lib/identity/identity.decider';
export * from './lib/sequence/sequence.decider';
export * from './lib/event-schemas';

import type { IdentityEvent } from './lib/identity/identity.events';
import type { OrganisationEvent } from './lib/organisation/organisation.events';
import type { ProjectEvent } from './lib/project/project.events';
import type { SequenceEvent } from './lib/sequence/sequence.decider';
import type { UserEvent } from './lib/user/user.events';

/** Every event the write model stores. */
export type AdminEvent = UserEvent | OrganisationEvent | ProjectEvent | IdentityEvent | SequenceEvent;
