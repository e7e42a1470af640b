import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';

/*
 * Response shapes of a feature's flag dependencies (`dependsOn`, `dependents`), for the OpenAPI
 * document: the application's FeatureDependenciesView is what is sent.
 */

const ID = { type: 'integer', minimum: 1 } as const;

export class DependencySegmentView {
  @ApiProperty({ ...ID, description: 'A segment whose rules read `$.flags.<name>.enabled` or `.value`' })
  id!: number;

  @ApiProperty({ type: 'string' })
  name!: string;

  @ApiProperty({ type: 'array', items: ID, description: 'Environments where the dependent feature has a segment override for this segment' })
  environmentIds!: number[];
}

export class FeatureDependencyView {
  @ApiProperty({ ...ID, description: 'The feature at the other end of the dependency' })
  featureId!: number;

  @ApiProperty({ type: 'string' })
  featureName!: string;

  @ApiProperty({ type: [DependencySegmentView], description: 'The segments the dependency runs through' })
  segments!: DependencySegmentView[];
}

/** Property options for a feature's `dependsOn` and `dependents`. */
export const DEPENDS_ON: ApiPropertyOptions = {
  type: [FeatureDependencyView],
  description: 'Features this one reads: a segment of one of its segment overrides (in any environment) reads `$.flags.<name>.enabled` or `.value`',
};
export const DEPENDENTS: ApiPropertyOptions = { type: [FeatureDependencyView], description: 'Features that read this one; while any segment reads it, it cannot be deleted or renamed' };
