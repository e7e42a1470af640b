import type { DomainEvent } from '@flagline/event-sourcing';
import type { IssueKeyFields } from '../shared/api-key';

export type UserRegistered = DomainEvent<
  'UserRegistered',
  { userId: number; email: string; name: string; isSuperuser: boolean; registeredAt: string }
>;
export type UserProfileChanged = DomainEvent<'UserProfileChanged', { userId: number; name: string }>;
export type UserDeleted = DomainEvent<'UserDeleted', { userId: number }>;
export type UserApiKeyIssued = DomainEvent<'UserApiKeyIssued', IssueKeyFields & { userId: number }>;
export type UserApiKeyRevoked = DomainEvent<'UserApiKeyRevoked', { userId: number; keyId: string; revokedAt: string }>;

export type UserEvent = UserRegistered | UserProfileChanged | UserDeleted | UserApiKeyIssued | UserApiKeyRevoked;
