import type { IssueKeyFields } from '../shared/api-key';

export type UserCommand =
  | { type: 'RegisterUser'; userId: number; email: string; name: string; isSuperuser: boolean; now: string }
  | { type: 'ChangeUserProfile'; name: string; expectedRevision?: number }
  | { type: 'DeleteUser'; expectedRevision?: number }
  | ({ type: 'IssueUserApiKey' } & IssueKeyFields)
  | { type: 'RevokeUserApiKey'; keyId: string; now: string };
