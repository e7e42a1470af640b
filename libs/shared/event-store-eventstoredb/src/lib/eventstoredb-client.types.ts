import type {
  AllStreamResolvedEvent,
  AppendResult as ClientAppendResult,
  AppendToStreamOptions,
  CaughtUp,
  EventData,
  ReadAllOptions as ClientReadAllOptions,
  ReadStreamOptions as ClientReadStreamOptions,
  ResolvedEvent,
  SubscribeToAllOptions,
} from '@kurrent/kurrentdb-client';

/**
 * What the adapter needs of a `$all` catch-up subscription: the client's `AllStreamSubscription`
 * (a Node readable in object mode that also emits `caughtUp`) has this shape.
 */
export interface CatchUpSubscriptionStream {
  /** Events pushed by the client but not yet emitted as `data`. */
  readonly readableLength: number;
  on(event: 'data', listener: (resolved: AllStreamResolvedEvent) => void): this;
  on(event: 'caughtUp', listener: (info: CaughtUp) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  pause(): this;
  resume(): this;
  isPaused(): boolean;
  unsubscribe(): Promise<void>;
}

/**
 * The part of `KurrentDBClient` the adapter uses. Declared here so the adapter's control flow
 * can be exercised against a fake without a server; the real client satisfies it as is.
 */
export interface EventStoreDbClient {
  appendToStream(streamName: string, events: EventData[], options?: AppendToStreamOptions): Promise<ClientAppendResult>;
  readStream(streamName: string, options?: ClientReadStreamOptions): AsyncIterable<ResolvedEvent>;
  readAll(options?: ClientReadAllOptions): AsyncIterable<AllStreamResolvedEvent>;
  subscribeToAll(options?: SubscribeToAllOptions): CatchUpSubscriptionStream;
  dispose(): Promise<void>;
}
