import type { AdminApplication } from '@flagline/admin-application';
import type { TraitValue } from '@flagline/admin-domain';
import { Body, Controller, HttpCode, Inject, Injectable, Module, Post, UnauthorizedException, UseGuards, type CanActivate, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Length, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import type { Request } from 'express';
import { timingSafeEqual, createHash } from 'node:crypto';
import { IsTraitMap, RawTraits } from './dto/validators';
import { ADMIN_APPLICATION } from './http/admin-api.tokens';

const INTERNAL_TOKEN = Symbol('InternalApiToken');

class SdkActorDto {
  @IsIn(['client', 'server'])
  keyKind!: 'client' | 'server';

  @IsString()
  @Length(1, 64)
  keyPrefix!: string;
}

/** What an evaluation service reports when an SDK identified an identity. */
class RecordIdentityDto {
  @IsInt()
  @Min(1)
  environmentId!: number;

  @IsString()
  @Length(1, 2000)
  identifier!: string;

  // Kept as sent: a trait written 5.0 arrives as a FloatNumber (see float-json.middleware), and trait names are free text.
  @RawTraits()
  @IsTraitMap()
  traits!: Record<string, TraitValue | null>;

  @ValidateNested()
  @Type(() => SdkActorDto)
  actor!: SdkActorDto;

  @IsString()
  @Length(1, 200)
  correlationId!: string;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** `Authorization: Bearer <INTERNAL_API_TOKEN>`, compared in constant time. */
@Injectable()
class InternalTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(INTERNAL_TOKEN) token: string) {
    this.expected = digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token || !timingSafeEqual(digest(token), this.expected)) throw new UnauthorizedException('Internal API token required');
    return true;
  }
}

@ApiExcludeController()
@UseGuards(InternalTokenGuard)
@Controller('internal/v1')
class InternalController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  /** SDK identify calls seen by evaluation services: get or create the identity, apply its traits. */
  @Post('identities')
  @HttpCode(204)
  async recordIdentity(@Body() body: RecordIdentityDto): Promise<void> {
    await this.app.identities.recordFromSdk({
      environmentId: body.environmentId,
      identifier: body.identifier,
      traits: body.traits,
      actor: { kind: 'environment-key', id: body.actor.keyPrefix, name: `${body.actor.keyKind}-side key` },
      correlationId: body.correlationId,
    });
  }
}

/** The service-to-service API of the command service (not part of the public admin API). */
@Module({})
export class InternalApiModule {
  static register(application: AdminApplication, token: string): DynamicModule {
    return {
      module: InternalApiModule,
      controllers: [InternalController],
      providers: [{ provide: ADMIN_APPLICATION, useValue: application }, { provide: INTERNAL_TOKEN, useValue: token }, InternalTokenGuard],
    };
  }
}
