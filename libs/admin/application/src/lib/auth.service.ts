import { toUserStreamName } from '@flagline/admin-domain';
import type { AdminContext } from './admin-context';
import { hashKey } from './api-key.material';
import type { Principal } from './principal';

export interface BootstrapOptions {
  /** The instance administrator's key (ADMIN_API_KEY). */
  readonly adminApiKey: string;
  readonly adminEmail: string;
}

/**
 * Resolves `Authorization: Api-Key <key>` to a principal. The configured admin key belongs to
 * the instance administrator, a user created at first start; every other key is a user's or an
 * organisation's, looked up by its hash.
 */
export class AuthService {
  private readonly adminKeyHash: string;

  constructor(
    private readonly context: AdminContext,
    private readonly options: BootstrapOptions,
  ) {
    this.adminKeyHash = hashKey(options.adminApiKey);
  }

  /** Creates the instance administrator on first start; idempotent. */
  async bootstrap(): Promise<void> {
    if (this.context.catalog.userByEmail(this.options.adminEmail)) return;
    const [userId] = await this.context.ids.take(1);
    await this.context.users.handle(
      toUserStreamName(userId as number),
      { type: 'RegisterUser', userId: userId as number, email: this.options.adminEmail, name: 'Administrator', isSuperuser: true, now: this.context.now() },
      { commandId: `bootstrap-${this.options.adminEmail}`, actor: { kind: 'system', id: 'bootstrap' }, now: this.context.clock(), correlationId: 'bootstrap' },
    ).then((result) => (result.position === null ? undefined : this.context.catalog.waitFor(result.position)));
  }

  authenticate(key: string): Principal | null {
    const keyHash = hashKey(key);
    const catalog = this.context.catalog;
    if (keyHash === this.adminKeyHash) {
      const admin = catalog.userByEmail(this.options.adminEmail);
      return admin ? { kind: 'user', userId: admin.userId, isSuperuser: true, name: admin.email } : null;
    }
    const owner = catalog.keyOwner(keyHash);
    if (!owner) return null;
    if (owner.kind === 'user') {
      const user = catalog.user(owner.userId);
      return user ? { kind: 'user', userId: user.userId, isSuperuser: user.isSuperuser, name: user.email } : null;
    }
    const stored = catalog.organisation(owner.organisationId)?.keys.get(owner.keyId);
    return stored ? { kind: 'organisation-key', organisationId: owner.organisationId, role: owner.role, keyId: owner.keyId, name: stored.name } : null;
  }
}
