import type { Role } from './organisation.events';

/** How long an invitation stays open unless the inviter chooses otherwise, and the bounds of that choice. */
export const INVITATION_DEFAULT_DAYS = 7;
export const INVITATION_MIN_DAYS = 1;
export const INVITATION_MAX_DAYS = 30;

export const INVITATION_STATUSES = ['pending', 'accepted', 'declined', 'revoked', 'expired'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/** An invitation as its organisation keeps it; the invitee is an email, matched to a user only when they answer. */
export interface Invitation {
  readonly invitationId: string;
  /** Normalised (`normaliseEmail`). */
  readonly email: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** What ended the invitation before it expired, if anything did. */
  readonly closed: { readonly status: 'accepted' | 'declined' | 'revoked'; readonly at: string } | null;
}

/**
 * Emails are compared trimmed and lower-cased: an invitation to `Ada@Example.com` is the one the
 * user registered as `ada@example.com` sees, whenever they registered.
 */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

/** An invitation's status at a given time (ISO-8601): expiry is decided against the caller's clock, never stored. */
export function invitationStatus(invitation: Invitation, now: string): InvitationStatus {
  if (invitation.closed) return invitation.closed.status;
  return Date.parse(now) >= Date.parse(invitation.expiresAt) ? 'expired' : 'pending';
}

/** When an invitation made at `now` for `days` days expires. */
export const invitationExpiry = (now: string, days: number): string => new Date(Date.parse(now) + days * 86_400_000).toISOString();
