import { ForbiddenError, type NotFoundError, type Role } from '@flagline/admin-domain';
import type { AdminCatalog } from '@flagline/admin-projections';
import type { Actor } from '@flagline/event-sourcing';

/** The authenticated caller of the admin API. */
export type Principal =
  | { readonly kind: 'user'; readonly userId: number; readonly isSuperuser: boolean; readonly name: string }
  | { readonly kind: 'organisation-key'; readonly organisationId: number; readonly role: Role; readonly keyId: string; readonly name: string };

export function actorOf(principal: Principal): Actor {
  return principal.kind === 'user'
    ? { kind: 'user', id: String(principal.userId), name: principal.name }
    : { kind: 'organisation-key', id: principal.keyId, name: principal.name };
}

/** The caller's role in an organisation, or null when the organisation is not theirs. */
export function roleIn(catalog: AdminCatalog, principal: Principal, organisationId: number): Role | null {
  if (!catalog.organisation(organisationId)) return null;
  if (principal.kind === 'organisation-key') return principal.organisationId === organisationId ? principal.role : null;
  return catalog.organisation(organisationId)?.members.get(principal.userId) ?? null;
}

/**
 * Another organisation's data is reported as not found, never as forbidden, so a key cannot
 * learn what exists elsewhere. Inside its own organisation, a member lacking a right gets 403.
 */
export function requireRole(catalog: AdminCatalog, principal: Principal, organisationId: number, needed: Role, what: string, notFound: () => NotFoundError): Role {
  const role = roleIn(catalog, principal, organisationId);
  if (!role) throw notFound();
  if (needed === 'admin' && role !== 'admin') throw new ForbiddenError('PERMISSION.ADMIN_REQUIRED', `Only organisation admins can ${what}`);
  return role;
}

export function requireUserPrincipal(principal: Principal, what: string): Extract<Principal, { kind: 'user' }> {
  if (principal.kind !== 'user') throw new ForbiddenError('PERMISSION.USER_REQUIRED', `Only a user's key can ${what}`);
  return principal;
}

export function requireSuperuser(principal: Principal, what: string): void {
  if (principal.kind !== 'user' || !principal.isSuperuser) throw new ForbiddenError('PERMISSION.SUPERUSER_REQUIRED', `Only the instance administrator can ${what}`);
}
