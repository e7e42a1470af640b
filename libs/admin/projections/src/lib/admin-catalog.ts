import {
  categoryOf,
  evolveIdentity,
  evolveOrganisation,
  evolveProject,
  evolveUser,
  initialIdentity,
  initialOrganisation,
  initialProject,
  initialUser,
  isErasedIdentityEvent,
  type AdminEvent,
  type Identity,
  normaliseEmail,
  type IdentityEvent,
  type Invitation,
  type Organisation,
  type OrganisationEvent,
  type Project,
  type ProjectEvent,
  type Role,
  type User,
  type UserEvent,
} from '@flagline/admin-domain';
import {
  InMemoryCatalogStore,
  ProgressTracker,
  type CatalogAuditRow,
  type CatalogEventRef,
  type CatalogIdentityRow,
  type CatalogStore,
  type EventStore,
  type RecordedEvent,
} from '@flagline/event-sourcing';
import { auditKeysOf, auditPage, type AuditEntity, type AuditPage } from './audit-index';

/** Who an API key belongs to. */
export type KeyOwner =
  | { readonly kind: 'user'; readonly userId: number; readonly keyId: string }
  | { readonly kind: 'organisation'; readonly organisationId: number; readonly role: Role; readonly keyId: string };

export interface AdminCatalogOptions {
  /** Where identities, identifiers, the audit index, event ids and snapshots live; in memory by default. */
  readonly store?: CatalogStore;
  /** Applied events are written to the store at most this long after they were applied (ms). */
  readonly flushIntervalMs?: number;
  /** ... or as soon as this many are waiting (default 5,000). */
  readonly flushEvents?: number;
  /** A write to the store failed (it is retried at the next flush; reads are served from memory meanwhile). */
  readonly onError?: (error: unknown) => void;
}

/** The small folded state kept in memory and written to the store as snapshots, by key. */
const INDEXES = 'indexes';
interface CatalogIndexes {
  readonly usersByEmail: Map<string, number>;
  readonly keyOwners: Map<string, KeyOwner>;
  readonly invitationOrganisation: Map<string, number>;
  readonly invitationsByEmail: Map<string, Set<string>>;
  readonly projectOf: Map<string, number>;
}

/** Told of a stream's folded state after one of its events, and where that event is. */
export type StateListener = (streamName: string, folded: { readonly state: Organisation | Project; readonly revision: number; readonly position: number }) => void;

interface Versioned<S> {
  readonly state: S;
  /** Revision of the stream's last event. */
  readonly revision: number;
}

/**
 * The admin read side: every user, organisation, project and identity folded with the domain's
 * own `evolve`, plus the indexes the API needs (keys, memberships, ids to projects) and the
 * audit index. Fed in log order by a subscription; `waitFor` gives read-your-writes.
 *
 * What grows with the data (identities, identifiers per environment, the audit index, event ids)
 * lives in a `CatalogStore`; users, organisations and projects (few) stay folded in memory and
 * are written to the store as snapshots. Applied events are written behind, in one transaction
 * with their checkpoint every `flushIntervalMs` or `flushEvents`; until then reads are answered
 * from what is waiting. A catalog opened over a store resumes from its checkpoint: start it with
 * `AdminCatalog.open`, which checks the checkpoint against the log, and subscribe after `position`.
 */
export class AdminCatalog {
  private readonly users = new Map<number, Versioned<User>>();
  private readonly organisations = new Map<number, Versioned<Organisation>>();
  private readonly projects = new Map<number, Versioned<Project>>();
  private indexes: CatalogIndexes = { usersByEmail: new Map(), keyOwners: new Map(), invitationOrganisation: new Map(), invitationsByEmail: new Map(), projectOf: new Map() };
  private readonly store: CatalogStore;
  private readonly progress = new ProgressTracker();
  private readonly flushIntervalMs: number;
  private readonly flushEvents: number;
  // Applied, not yet written to the store. Each flush's rows and refs go in Maps of their own:
  // `clear()` on a Map that lives in the old generation left the rows it had held to be promoted
  // by the young generation's collections (about 140 MB over a rebuild of 200,000 identities; 6 MB
  // with new Maps).
  private pendingIdentities = new Map<string, CatalogIdentityRow>();
  private readonly pendingStates = new Set<string>();
  private pendingAudit: CatalogAuditRow[] = [];
  private pendingRefs = new Map<string, CatalogEventRef>();
  private pendingEvents = 0;
  private lastEvent: CatalogEventRef | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private appliedEvents = 0;
  private readonly stateListeners: StateListener[] = [];
  /** The last flush failed: the next ones wait for the timer instead of running at every event. */
  private flushFailing = false;

  constructor(private readonly options: AdminCatalogOptions = {}) {
    this.store = options.store ?? new InMemoryCatalogStore();
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.flushEvents = options.flushEvents ?? 5000;
    this.load();
  }

  /**
   * A catalog over a store, checked against the log: a checkpoint the log does not hold (a log
   * replaced, cut short, or another one) empties the store, so the catalog is rebuilt from the log
   * rather than served. Subscribe the result after its `position`.
   */
  static async open(log: Pick<EventStore, 'readStream'>, options: AdminCatalogOptions & { readonly store: CatalogStore }): Promise<AdminCatalog> {
    const checkpoint = options.store.checkpoint();
    if (checkpoint > 0) {
      const expected = options.store.checkpointEvent();
      const found = expected ? await log.readStream(expected.stream, { fromRevision: expected.revision, maxCount: 1 }) : null;
      const [event] = found?.events ?? [];
      if (!expected || !event || event.globalPosition !== checkpoint || event.id !== expected.id) options.store.reset();
    }
    return new AdminCatalog(options);
  }

  private load(): void {
    for (const [key, value] of this.store.states()) {
      const colon = key.indexOf(':');
      const kind = key.slice(0, colon);
      const id = Number(key.slice(colon + 1));
      if (key === INDEXES) this.indexes = value as CatalogIndexes;
      else if (kind === 'user') this.users.set(id, value as Versioned<User>);
      else if (kind === 'organisation') this.organisations.set(id, value as Versioned<Organisation>);
      else if (kind === 'project') this.projects.set(id, value as Versioned<Project>);
    }
    this.progress.advance(this.store.checkpoint());
  }

  get position(): number {
    return this.progress.position;
  }

  /** Events this instance applied (a restart over a store applies only those after its checkpoint). */
  get appliedCount(): number {
    return this.appliedEvents;
  }

  /** Resolves once every event up to `position` has been applied. */
  waitFor(position: number): Promise<void> {
    return this.progress.waitFor(position);
  }

  apply(event: RecordedEvent): void {
    if (event.globalPosition <= this.progress.position) return;
    const category = categoryOf(event.streamName);
    const typed = event as RecordedEvent<AdminEvent>;
    switch (category) {
      case 'user':
        this.applyUser(typed as RecordedEvent<UserEvent>);
        break;
      case 'organisation':
        this.applyOrganisation(typed as RecordedEvent<OrganisationEvent>);
        break;
      case 'project':
        this.applyProject(typed as RecordedEvent<ProjectEvent>);
        break;
      case 'identity':
        this.applyIdentity(typed as RecordedEvent<IdentityEvent>);
        break;
      case 'sequence':
      case null:
        break;
    }
    if (category !== 'sequence' && category !== null) {
      const ref = refOf(typed);
      for (const entity of auditKeysOf(typed)) this.pendingAudit.push({ entity, type: typed.type, position: ref.position, stream: ref.stream, revision: ref.revision });
      // Ids are looked up to answer a retried admin request (Idempotency-Key); what SDK keys
      // record is never retried by id, so the busiest writes keep no id row.
      if (typed.metadata.actor.kind !== 'environment-key') this.pendingRefs.set(typed.id, ref);
      if (category !== 'identity') this.pendingStates.add(`${category}:${categoryId(event.streamName)}`);
      // User and organisation events are few; a project's are written with the indexes only when they moved one.
      if (category === 'user' || category === 'organisation') this.pendingStates.add(INDEXES);
    }
    this.appliedEvents++;
    this.pendingEvents++;
    this.lastEvent = refOf(event);
    this.progress.advance(event.globalPosition);
    // After a failed flush only the timer retries: a flush per event would encode the whole growing batch each time.
    if (this.pendingEvents >= this.flushEvents && !this.flushFailing) this.flushSafely();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flushSafely(), this.flushIntervalMs);
      this.timer.unref?.();
    }
  }

  /** Writes what was applied since the last flush, with its checkpoint, in one transaction. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pendingEvents === 0 || this.lastEvent === null) return;
    const states = new Map<string, unknown>();
    for (const key of this.pendingStates) states.set(key, this.stateFor(key));
    this.store.write({
      checkpoint: this.progress.position,
      checkpointEvent: this.lastEvent,
      identities: [...this.pendingIdentities.values()],
      states,
      audit: this.pendingAudit,
      events: [...this.pendingRefs.values()],
    });
    this.pendingIdentities = new Map();
    this.pendingStates.clear();
    this.pendingAudit = [];
    this.pendingRefs = new Map();
    this.pendingEvents = 0;
  }

  private flushSafely(): void {
    try {
      this.flush();
      this.flushFailing = false;
    } catch (error) {
      this.flushFailing = true;
      this.options.onError?.(error);
      this.timer ??= setTimeout(() => this.flushSafely(), this.flushIntervalMs);
      this.timer.unref?.();
    }
  }

  /** Writes what is waiting and closes the store. */
  close(): void {
    try {
      this.flush();
    } finally {
      this.store.close();
    }
  }

  private stateFor(key: string): unknown {
    if (key === INDEXES) return this.indexes;
    const colon = key.indexOf(':');
    const id = Number(key.slice(colon + 1));
    switch (key.slice(0, colon)) {
      case 'user':
        return this.users.get(id);
      case 'organisation':
        return this.organisations.get(id);
      default:
        return this.projects.get(id);
    }
  }

  private applyUser(event: RecordedEvent<UserEvent>): void {
    const userId = event.data.userId;
    const current = this.users.get(userId)?.state ?? initialUser();
    const state = evolveUser(current, event, event.streamRevision);
    this.users.set(userId, { state, revision: event.streamRevision });
    if (event.type === 'UserRegistered') this.indexes.usersByEmail.set(state.email.toLowerCase(), userId);
    if (event.type === 'UserDeleted') this.indexes.usersByEmail.delete(state.email.toLowerCase());
    if (event.type === 'UserApiKeyIssued') this.indexes.keyOwners.set(event.data.keyHash, { kind: 'user', userId, keyId: event.data.keyId });
    if (event.type === 'UserApiKeyRevoked') {
      const key = state.keys.get(event.data.keyId);
      if (key) this.indexes.keyOwners.delete(key.keyHash);
    }
  }

  /**
   * Calls `listener` with each organisation and project state the catalog folds, after the event
   * it folded (the catalog history keeps some as snapshots, so points of what this process
   * applied are read without folding their streams again).
   */
  observeStates(listener: StateListener): void {
    this.stateListeners.push(listener);
  }

  private folded(event: RecordedEvent, state: Organisation | Project): void {
    for (const listener of this.stateListeners) listener(event.streamName, { state, revision: event.streamRevision, position: event.globalPosition });
  }

  private applyOrganisation(event: RecordedEvent<OrganisationEvent>): void {
    const organisationId = event.data.organisationId;
    const current = this.organisations.get(organisationId)?.state ?? initialOrganisation();
    const state = evolveOrganisation(current, event, event.streamRevision);
    this.organisations.set(organisationId, { state, revision: event.streamRevision });
    this.folded(event, state);
    if (event.type === 'OrganisationApiKeyIssued')
      this.indexes.keyOwners.set(event.data.keyHash, { kind: 'organisation', organisationId, role: event.data.role, keyId: event.data.keyId });
    if (event.type === 'OrganisationApiKeyRevoked') {
      const key = state.keys.get(event.data.keyId);
      if (key) this.indexes.keyOwners.delete(key.keyHash);
    }
    if (event.type === 'InvitationCreated') {
      this.indexes.invitationOrganisation.set(event.data.invitationId, organisationId);
      const email = normaliseEmail(event.data.email);
      this.indexes.invitationsByEmail.set(email, (this.indexes.invitationsByEmail.get(email) ?? new Set()).add(event.data.invitationId));
    }
  }

  private applyProject(event: RecordedEvent<ProjectEvent>): void {
    const projectId = event.data.projectId;
    const current = this.projects.get(projectId)?.state ?? initialProject();
    const state = evolveProject(current, event, event.streamRevision);
    this.projects.set(projectId, { state, revision: event.streamRevision });
    this.folded(event, state);
    const data = event.data as Record<string, unknown>;
    for (const kind of ['featureId', 'segmentId', 'tagId', 'environmentId'] as const) {
      const id = data[kind];
      if (typeof id === 'number') this.locate(`${kind}:${id}`, projectId);
    }
    if (event.type === 'EnvironmentCreated' || event.type === 'EnvironmentCloned') this.locate(`apiKey:${event.data.apiKey}`, projectId);
  }

  /** Records the project holding an entity: the indexes (thousands of entries in a big project) are written again only when one moved. */
  private locate(key: string, projectId: number): void {
    if (this.indexes.projectOf.get(key) === projectId) return;
    this.indexes.projectOf.set(key, projectId);
    this.pendingStates.add(INDEXES);
  }

  private applyIdentity(event: RecordedEvent<IdentityEvent>): void {
    // Read as erased, an event no longer says whose it was: its identity's row was unlisted (and
    // its state emptied) when its IdentityErased was applied, and a rebuild makes none for it.
    if (isErasedIdentityEvent(event)) return;
    const { identityId, environmentId, identifier } = event.data;
    // A stream's first event starts from nothing: no read for a new identity.
    const current = (event.streamRevision === 0 ? undefined : (this.storedIdentity(identityId)?.state as Identity | undefined)) ?? initialIdentity();
    const state = evolveIdentity(current, event, event.streamRevision);
    // A deleted identity's identifier stays in the index with its deletion's position (a tombstone,
    // listed as of an earlier point); an erased one's leaves it: erasure keeps no identifier anywhere.
    const deletedAt = state.status === 'deleted' ? { deletedAt: event.globalPosition } : {};
    this.pendingIdentities.set(identityId, { identityId, environmentId, identifier, listed: state.status === 'active', ...deletedAt, revision: event.streamRevision, state });
  }

  private storedIdentity(identityId: string): Versioned<unknown> | undefined {
    const pending = this.pendingIdentities.get(identityId);
    if (pending) return { state: pending.state, revision: pending.revision };
    const stored = this.store.identity(identityId);
    return stored ? { state: stored.state, revision: stored.revision } : undefined;
  }

  user(userId: number): User | undefined {
    const user = this.users.get(userId)?.state;
    return user?.status === 'active' ? user : undefined;
  }

  userByEmail(email: string): User | undefined {
    const userId = this.indexes.usersByEmail.get(email.toLowerCase());
    return userId === undefined ? undefined : this.user(userId);
  }

  organisation(organisationId: number): Organisation | undefined {
    const organisation = this.organisations.get(organisationId)?.state;
    return organisation?.status === 'active' ? organisation : undefined;
  }

  /** Live organisations, with the role the user holds in each. */
  organisationsOf(userId: number): { organisation: Organisation; role: Role }[] {
    const out: { organisation: Organisation; role: Role }[] = [];
    for (const { state } of this.organisations.values()) {
      const role = state.status === 'active' ? state.members.get(userId) : undefined;
      if (role) out.push({ organisation: state, role });
    }
    return out.sort((a, b) => a.organisation.organisationId - b.organisation.organisationId);
  }

  /** An invitation of a live organisation, with that organisation. */
  invitation(invitationId: string): { organisation: Organisation; invitation: Invitation } | undefined {
    const organisationId = this.indexes.invitationOrganisation.get(invitationId);
    const organisation = organisationId === undefined ? undefined : this.organisation(organisationId);
    const invitation = organisation?.invitations.get(invitationId);
    return organisation && invitation ? { organisation, invitation } : undefined;
  }

  /** Every invitation of a live organisation addressed to an email (compared normalised), oldest first. */
  invitationsFor(email: string): { organisation: Organisation; invitation: Invitation }[] {
    const ids = this.indexes.invitationsByEmail.get(normaliseEmail(email)) ?? new Set<string>();
    return [...ids].flatMap((id) => {
      const found = this.invitation(id);
      return found ? [found] : [];
    });
  }

  project(projectId: number): Project | undefined {
    const project = this.projects.get(projectId)?.state;
    return project?.status === 'active' ? project : undefined;
  }

  projectsOf(organisationId: number): Project[] {
    return [...this.projects.values()]
      .map(({ state }) => state)
      .filter((project) => project.status === 'active' && project.organisationId === organisationId)
      .sort((a, b) => a.projectId - b.projectId);
  }

  /** The live project holding an entity, by the entity's id. */
  projectHolding(kind: 'featureId' | 'segmentId' | 'tagId' | 'environmentId', id: number): Project | undefined {
    const projectId = this.indexes.projectOf.get(`${kind}:${id}`);
    return projectId === undefined ? undefined : this.project(projectId);
  }

  /** Ids of every project the organisation ever had, deleted ones too (an as-of read folds each at its point). */
  projectIdsOf(organisationId: number): number[] {
    return [...this.projects.values()].filter(({ state }) => state.organisationId === organisationId).map(({ state }) => state.projectId);
  }

  /**
   * The project that holds or held an entity (`featureId:7`, `environmentId:3`, `apiKey:<key>`),
   * deleted or not: ids are never reused nor moved, so this answers for any point of the log.
   */
  projectIdHolding(key: string): number | undefined {
    return this.indexes.projectOf.get(key);
  }

  projectByEnvironmentKey(apiKey: string): Project | undefined {
    const projectId = this.indexes.projectOf.get(`apiKey:${apiKey}`);
    return projectId === undefined ? undefined : this.project(projectId);
  }

  identity(identityId: string): Identity | undefined {
    const identity = this.storedIdentity(identityId)?.state as Identity | undefined;
    return identity?.status === 'active' ? identity : undefined;
  }

  /**
   * Live identifiers of an environment in code-point order, after `after`, keeping those that
   * contain `search` (compared lower-cased), at most `limit`; with `deletedAfter` (a read as of that
   * position), also those of identities deleted after it, erased ones excepted.
   */
  identifiers(environmentId: number, query: { after?: string; search?: string; deletedAfter?: number; limit: number }): string[] {
    this.flush();
    return this.store.identifiers(environmentId, { ...query, ...(query.search !== undefined ? { search: query.search.toLowerCase() } : {}) });
  }

  /** One page of an entity's history: positions (and types) of its events in log order. */
  history(entity: AuditEntity, options: { after?: number; limit: number; types?: ReadonlySet<string> }): AuditPage {
    this.flush();
    return auditPage(this.store, entity, options);
  }

  /** Where an applied admin event is in the log, by its id (how a retried command finds what it appended the first time). */
  event(eventId: string): CatalogEventRef | undefined {
    return this.pendingRefs.get(eventId) ?? this.store.event(eventId);
  }

  keyOwner(keyHash: string): KeyOwner | undefined {
    const owner = this.indexes.keyOwners.get(keyHash);
    if (!owner) return undefined;
    if (owner.kind === 'user') return this.user(owner.userId) ? owner : undefined;
    return this.organisation(owner.organisationId) ? owner : undefined;
  }

  /** Folded state and stream revision, for command handlers to start from. */
  snapshot(streamName: string): Versioned<unknown> | undefined {
    const dash = streamName.indexOf('-');
    const id = streamName.slice(dash + 1);
    switch (categoryOf(streamName)) {
      case 'user':
        return this.users.get(Number(id));
      case 'organisation':
        return this.organisations.get(Number(id));
      case 'project':
        return this.projects.get(Number(id));
      case 'identity':
        return this.storedIdentity(id);
      case 'sequence':
      case null:
        return undefined;
    }
  }
}

const refOf = (event: RecordedEvent): CatalogEventRef => ({ id: event.id, position: event.globalPosition, stream: event.streamName, revision: event.streamRevision });

/** The id part of a stream name (`project-7` -> `7`). */
const categoryId = (streamName: string): string => streamName.slice(streamName.indexOf('-') + 1);
