import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ActorView } from './views.dto';

/** Any JSON value: a field's value as the admin reads show it. */
const ANY_VALUE = {
  nullable: true,
  oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: {} }, { type: 'object', additionalProperties: true }],
};

const KINDS = ['project', 'feature', 'segment', 'tag', 'environment', 'serverKey', 'featureState', 'segmentOverride', 'segmentOverrideOrder'];

export class DiffPointView {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The log position the point resolved to; 0 for an absent `from`: before the first event' })
  position!: number;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true, description: 'When the event at that position was recorded; null for position 0' })
  time!: string | null;
}

export class DiffEntityView {
  @ApiProperty({ type: 'string', enum: KINDS })
  kind!: string;

  @ApiProperty({
    type: 'string',
    description: 'The entity id; `<environment>:<feature>` for a feature state and an override order, `<environment>:<feature>:<segment>` for a segment override, `<environment>:<key id>` for a server key',
  })
  id!: string;

  @ApiPropertyOptional({ type: 'string' })
  name?: string;
}

export class DiffEventView {
  @ApiProperty({ type: 'string' })
  id!: string;

  @ApiProperty({ type: 'integer', minimum: 1 })
  position!: number;

  @ApiProperty({ type: 'string', description: 'The event type, like `FeatureStateChanged`' })
  type!: string;

  @ApiProperty({ type: ActorView })
  actor!: ActorView;

  @ApiProperty({ type: 'string', format: 'date-time' })
  occurredAt!: string;
}

export class DiffChangeView {
  @ApiProperty({ type: DiffEntityView })
  entity!: DiffEntityView;

  @ApiProperty({ type: 'string', description: 'The field as the admin reads show it; `entity` for an entity added (before null) or removed (after null), with all its fields' })
  field!: string;

  @ApiProperty({ ...ANY_VALUE, description: 'The value at `from` (null when the entity did not exist then)' })
  before!: unknown;

  @ApiProperty({ ...ANY_VALUE, description: 'The value at `to` (null when the entity did not exist then)' })
  after!: unknown;

  @ApiProperty({ type: [DiffEventView], description: 'The events between the two points that changed the entity, in log order' })
  events!: DiffEventView[];
}

export class DiffView {
  @ApiProperty({ type: DiffPointView })
  from!: DiffPointView;

  @ApiProperty({ type: DiffPointView })
  to!: DiffPointView;

  @ApiProperty({ type: [DiffChangeView] })
  changes!: DiffChangeView[];
}
