import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { AdminApplication } from '@flagline/admin-application';
import { ADMIN_APPLICATION } from './admin-api.tokens';
import type { AuthenticatedRequest } from './request-context';

/** `Authorization: Api-Key <key>`: a missing, malformed or unknown key is a 401. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(ADMIN_APPLICATION) private readonly application: AdminApplication) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const authorization = request.headers.authorization;
    const match = authorization ? /^Api-Key\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) throw new UnauthorizedException('Send an admin API key as "Authorization: Api-Key <key>"');
    const principal = this.application.auth.authenticate(match[1] as string);
    if (!principal) throw new UnauthorizedException('The API key is not valid');
    request.principal = principal;
    return true;
  }
}
