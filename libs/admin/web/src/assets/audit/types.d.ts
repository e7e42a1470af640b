// The admin API's answers as the auditor page reads them (the fields it uses), for type-checking
// the page's modules (`libs/admin/web/tsconfig.assets.json`). Not served: the page has no build step.

export interface Page<T> {
  results: T[];
  next: string | null;
}
export interface Organisation {
  id: number;
  name: string;
}
export interface Project {
  id: number;
  organisationId: number;
  name: string;
}
export interface Environment {
  id: number;
  name: string;
}
export interface Feature {
  id: number;
  name: string;
  type: string;
  defaultEnabled: boolean;
  initialValue: unknown;
  isArchived: boolean;
}
export interface Segment {
  id: number;
  name: string;
  description: string;
  rules: unknown;
}
export interface Identity {
  identifier: string;
}
export interface FeatureState {
  featureName: string;
  enabled: boolean;
  value: unknown;
  multivariateAllocations: unknown[];
}
export interface SegmentOverride {
  featureName: string;
  priority: number;
  segmentName: string;
  enabled: boolean;
  value: unknown;
}
export interface Actor {
  kind: string;
  id: string | number;
  name?: string;
}
/** An entry of a `…/history` route. */
export interface HistoryEntry {
  position: number;
  type: string;
  occurredAt: string;
  actor: Actor;
  correlationId: string;
  data: unknown;
}
/** A change of the `…/diff` route. */
export interface DiffChange {
  entity: { kind: string; id: string; name?: string };
  field: string;
  before: unknown;
  after: unknown;
  events: { position: number }[];
}
export interface Diff {
  changes: DiffChange[];
}
/** The API's error shape. */
export interface ErrorBody {
  statusCode?: number;
  code?: string;
  message?: string;
  errors?: { field: string; message: string }[];
}
