import type { AdminApplication, RequestContext } from '@flagline/admin-application';
import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ConsistencyProofView, InclusionProofView, PublicKeyView, SignedTreeHeadView } from '../dto/transparency.dto';
import { ApiErrorView } from '../dto/views.dto';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { RequestValidationError } from '../http/api-error';
import { AdminErrors } from '../http/api-responses';
import { ApiKeyGuard } from '../http/api-key.guard';
import { Caller } from '../http/request-context';
import { requireParameters, TransparencyQueryPipe, type TransparencyQuery } from './transparency.query';

const COUNT = { type: 'integer', minimum: 0 } as const;

/**
 * The log's Merkle tree (RFC 6962 / RFC 9162): signed tree heads, the public key that verifies
 * them, and inclusion and consistency proofs. `npm run verify` checks them offline.
 */
@ApiTags('transparency')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller('transparency')
export class TransparencyController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get('tree-head')
  @ApiOperation({
    summary: 'The latest signed tree head, or the one signed at an earlier size',
    description: 'Only the tree as it is gets a new signature; a head once signed for a size is answered again, and an earlier size for which none was signed is 404 `TRANSPARENCY.HEAD_NOT_SIGNED` (heads are never signed after the fact). 409 `TRANSPARENCY.LOG_MISMATCH` (with the first mismatching position in `details`) when the log no longer matches its tree; ' +
      '409 `TRANSPARENCY.CHECKING` (retry) while the start-up comparison of the log with the tree runs.',
  })
  @ApiQuery({ name: 'treeSize', required: false, schema: COUNT, description: 'An earlier tree size (at most the current one; 400 above it) a head was signed for' })
  @ApiOkResponse({ type: SignedTreeHeadView })
  @ApiResponse({ status: 404, description: 'No head was signed when the tree had that size', type: ApiErrorView })
  @ApiResponse({ status: 409, description: 'The log does not match its tree: no head is signed', type: ApiErrorView })
  treeHead(@Caller() caller: RequestContext, @Query(TransparencyQueryPipe) query: TransparencyQuery) {
    return this.app.transparency.treeHead(caller, query.treeSize);
  }

  @Get('public-key')
  @ApiOperation({ summary: 'The Ed25519 public key tree heads are signed with' })
  @ApiOkResponse({ type: PublicKeyView })
  publicKey(@Caller() caller: RequestContext) {
    return this.app.transparency.publicKey(caller);
  }

  @Get('proofs/inclusion')
  @ApiOperation({
    summary: 'An inclusion proof (audit path) for an event the caller may read',
    description: 'Name the event by `position` or `eventId`; the proof is for the tree of `treeSize` leaves (default: the current size). An event the caller may not read is not found.',
  })
  @ApiQuery({ name: 'position', required: false, schema: { type: 'integer', minimum: 1 } })
  @ApiQuery({ name: 'eventId', required: false, schema: { type: 'string', minLength: 1, maxLength: 200 } })
  @ApiQuery({ name: 'treeSize', required: false, schema: COUNT })
  @ApiOkResponse({ type: InclusionProofView })
  inclusion(@Caller() caller: RequestContext, @Query(TransparencyQueryPipe) query: TransparencyQuery) {
    requireParameters([query.position === undefined && query.eventId === undefined && 'position']);
    if (query.position !== undefined && query.eventId !== undefined) throw new RequestValidationError([{ field: 'eventId', message: 'give position or eventId, not both' }]);
    const reference = query.position !== undefined ? { position: query.position } : { eventId: query.eventId as string };
    return this.app.transparency.inclusionProof(caller, reference, query.treeSize);
  }

  @Get('proofs/consistency')
  @ApiOperation({ summary: 'A consistency proof: the tree of `second` leaves extends the tree of `first` leaves' })
  @ApiQuery({ name: 'first', required: true, schema: COUNT })
  @ApiQuery({ name: 'second', required: true, schema: COUNT })
  @ApiOkResponse({ type: ConsistencyProofView })
  consistency(@Caller() caller: RequestContext, @Query(TransparencyQueryPipe) query: TransparencyQuery) {
    requireParameters([query.first === undefined && 'first', query.second === undefined && 'second']);
    return this.app.transparency.consistencyProof(caller, query.first as number, query.second as number);
  }
}
