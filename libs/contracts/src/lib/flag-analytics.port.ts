/** Evaluation counts per feature, as SDKs report them (`POST /api/v1/analytics/flags/`), by UTC day. */
export interface FlagAnalyticsStore {
  /** Adds counts for one environment on one day (`YYYY-MM-DD`). */
  record(environmentId: number, day: string, counts: Readonly<Record<string, number>>): Promise<void>;
  /** Counts per day (inclusive range, `YYYY-MM-DD`), days without counts omitted. */
  read(environmentId: number, fromDay: string, toDay: string): Promise<{ day: string; counts: Record<string, number> }[]>;
}
