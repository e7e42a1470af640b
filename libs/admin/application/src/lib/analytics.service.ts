import type { FlagAnalyticsStore } from '@flagline/contracts';
import { ValidationError } from '@flagline/admin-domain';
import type { AdminContext, RequestContext } from './admin-context';
import { Lookup } from './lookup';

export interface FlagAnalyticsView {
  environmentId: number;
  from: string;
  to: string;
  /** Evaluations per feature over the range. */
  totals: Record<string, number>;
  days: { day: string; counts: Record<string, number> }[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Flag evaluation counts reported by SDKs, per environment and day. */
export class FlagAnalyticsService {
  private readonly lookup: Lookup;

  constructor(
    context: AdminContext,
    private readonly store: FlagAnalyticsStore | undefined,
  ) {
    this.lookup = new Lookup(context.catalog);
  }

  async read(request: RequestContext, reference: string, range: { from?: string; to?: string }, today: string): Promise<FlagAnalyticsView> {
    const fields = [
      ...(range.from !== undefined && !DAY.test(range.from) ? [{ field: 'from', message: 'must be a date YYYY-MM-DD' }] : []),
      ...(range.to !== undefined && !DAY.test(range.to) ? [{ field: 'to', message: 'must be a date YYYY-MM-DD' }] : []),
    ];
    if (fields.length > 0) throw new ValidationError('ANALYTICS.INVALID_RANGE', fields);
    const { environment } = this.lookup.environment(request.principal, reference, 'member', 'read flag analytics');
    const to = range.to ?? today;
    const from = range.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
    const days = this.store ? await this.store.read(environment.environmentId, from, to) : [];
    const totals: Record<string, number> = {};
    for (const { counts } of days) for (const [feature, count] of Object.entries(counts)) totals[feature] = (totals[feature] ?? 0) + count;
    return { environmentId: environment.environmentId, from, to, totals, days };
  }
}
