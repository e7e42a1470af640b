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
import { ProgressTracker, type RecordedEvent } from '@flagline/event-sourcing';
import { AuditIndex } from './audit-index';

/** Who an API key belongs to. */
export type KeyOwner =
  | { readonly kind: 'user'; readonly userId: number; readonly keyId: string }
  | { readonly kind: 'organisation'; readonly organisationId: number; readonly role: Role; readonly keyId: string };

interface Versioned<S> {
  readonly state: S;
  /** Revision of the stream's last event. */
  readonly revision: number;
}

/**
 * The admin read side: every user, organisation, project and identity folded with the domain's
 * own `evolve`, plus the indexes the API needs (keys, memberships, ids to projects) and the
 * audit index. Fed in log order by a subscription; `waitFor` gives read-your-writes.
 */
export class AdminCatalog {
  private readonly users = new Map<number, Versioned<User>>();
  private readonly organisations = new Map<number, Versioned<Organisation>>();
  private readonly projects = new Map<number, Versioned<Project>>();
  private readonly identities = new Map<string, Versioned<Identity>>();
  private readonly usersByEmail = new Map<string, number>();
  private readonly keyOwners = new Map<string, KeyOwner>();
  private readonly invitationOrganisation = new Map<string, number>();
  private readonly invitationsByEmail = new Map<string, Set<string>>();
  private readonly projectOf = new Map<string, number>();
  private readonly identitiesByEnvironment = new Map<number, Set<string>>();
  private readonly eventsById = new Map<string, RecordedEvent<AdminEvent>>();
  readonly audit = new AuditIndex();
  private readonly progress = new ProgressTracker();

  get position(): number {
    return this.progress.position;
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
      this.audit.record(typed);
      this.eventsById.set(typed.id, typed);
    }
    this.progress.advance(event.globalPosition);
  }

  private applyUser(event: RecordedEvent<UserEvent>): void {
    const userId = event.data.userId;
    const current = this.users.get(userId)?.state ?? initialUser();
    const state = evolveUser(current, event, event.streamRevision);
    this.users.set(userId, { state, revision: event.streamRevision });
    if (event.type === 'UserRegistered') this.usersByEmail.set(state.email.toLowerCase(), userId);
    if (event.type === 'UserDeleted') this.usersByEmail.delete(state.email.toLowerCase());
    if (event.type === 'UserApiKeyIssued') this.keyOwners.set(event.data.keyHash, { kind: 'user', userId, keyId: event.data.keyId });
    if (event.type === 'UserApiKeyRevoked') {
      const key = state.keys.get(event.data.keyId);
      if (key) this.keyOwners.delete(key.keyHash);
    }
  }

  private applyOrganisation(event: RecordedEvent<OrganisationEvent>): void {
    const organisationId = event.data.organisationId;
    const current = this.organisations.get(organisationId)?.state ?? initialOrganisation();
    const state = evolveOrganisation(current, event, event.streamRevision);
    this.organisations.set(organisationId, { state, revision: event.streamRevision });
    if (event.type === 'OrganisationApiKeyIssued')
      this.keyOwners.set(event.data.keyHash, { kind: 'organisation', organisationId, role: event.data.role, keyId: event.data.keyId });
    if (event.type === 'OrganisationApiKeyRevoked') {
      const key = state.keys.get(event.data.keyId);
      if (key) this.keyOwners.delete(key.keyHash);
    }
    if (event.type === 'InvitationCreated') {
      this.invitationOrganisation.set(event.data.invitationId, organisationId);
      const email = normaliseEmail(event.data.email);
      this.invitationsByEmail.set(email, (this.invitationsByEmail.get(email) ?? new Set()).add(event.data.invitationId));
    }
  }

  private applyProject(event: RecordedEvent<ProjectEvent>): void {
    const projectId = event.data.projectId;
    const current = this.projects.get(projectId)?.state ?? initialProject();
    const state = evolveProject(current, event, event.streamRevision);
    this.projects.set(projectId, { state, revision: event.streamRevision });
    const data = event.data as Record<string, unknown>;
    for (const kind of ['featureId', 'segmentId', 'tagId', 'environmentId'] as const) {
      const id = data[kind];
      if (typeof id === 'number') this.projectOf.set(`${kind}:${id}`, projectId);
    }
    if (event.type === 'EnvironmentCreated' || event.type === 'EnvironmentCloned') this.projectOf.set(`apiKey:${event.data.apiKey}`, projectId);
  }

  private applyIdentity(event: RecordedEvent<IdentityEvent>): void {
    const { identityId, environmentId, identifier } = event.data;
    const current = this.identities.get(identityId)?.state ?? initialIdentity();
    const state = evolveIdentity(current, event, event.streamRevision);
    this.identities.set(identityId, { state, revision: event.streamRevision });
    const known = this.identitiesByEnvironment.get(environmentId) ?? new Set<string>();
    if (state.status === 'active') known.add(identifier);
    else known.delete(identifier);
    this.identitiesByEnvironment.set(environmentId, known);
  }

  user(userId: number): User | undefined {
    const user = this.users.get(userId)?.state;
    return user?.status === 'active' ? user : undefined;
  }

  userByEmail(email: string): User | undefined {
    const userId = this.usersByEmail.get(email.toLowerCase());
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
    const organisationId = this.invitationOrganisation.get(invitationId);
    const organisation = organisationId === undefined ? undefined : this.organisation(organisationId);
    const invitation = organisation?.invitations.get(invitationId);
    return organisation && invitation ? { organisation, invitation } : undefined;
  }

  /** Every invitation of a live organisation addressed to an email (compared normalised), oldest first. */
  invitationsFor(email: string): { organisation: Organisation; invitation: Invitation }[] {
    const ids = this.invitationsByEmail.get(normaliseEmail(email)) ?? new Set<string>();
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
    const projectId = this.projectOf.get(`${kind}:${id}`);
    return projectId === undefined ? undefined : this.project(projectId);
  }

  projectByEnvironmentKey(apiKey: string): Project | undefined {
    const projectId = this.projectOf.get(`apiKey:${apiKey}`);
    return projectId === undefined ? undefined : this.project(projectId);
  }

  identity(identityId: string): Identity | undefined {
    const identity = this.identities.get(identityId)?.state;
    return identity?.status === 'active' ? identity : undefined;
  }

  identifiersIn(environmentId: number): string[] {
    return [...(this.identitiesByEnvironment.get(environmentId) ?? [])].sort();
  }

  /** An applied admin event by its id (how a retried command finds what it appended the first time). */
  event(eventId: string): RecordedEvent<AdminEvent> | undefined {
    return this.eventsById.get(eventId);
  }

  keyOwner(keyHash: string): KeyOwner | undefined {
    const owner = this.keyOwners.get(keyHash);
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
        return this.identities.get(id);
      case 'sequence':
      case null:
        return undefined;
    }
  }
}
