import { excludeSystemEvents, type Filter } from '@kurrent/kurrentdb-client';

/**
 * Server-side filter for `$all` reads and subscriptions: drops events whose type starts with `$`
 * (stream metadata, links, statistics, projection bookkeeping) before they are sent.
 */
export function systemEventsExcluded(): Filter {
  return excludeSystemEvents();
}

/**
 * The client-side complement: the server filters on one property only, and system streams also
 * hold events with ordinary type names (projection results such as `Result` in
 * `$projections-*-result`). Anything in a `$` stream or with a `$` type is not ours.
 */
export function isSystemEvent(event: { readonly type: string; readonly streamId: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}
