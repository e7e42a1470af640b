import type { FloatNumber } from '@flagline/python-compat';

/** Persists what SDKs tell about identities (identify calls) through the write side. */
export interface IdentityWriter {
  /**
   * Gets or creates the identity and applies the traits (null removes one). Resolves once the
   * change is acknowledged by the event store.
   */
  record(input: {
    readonly environmentId: number;
    readonly identifier: string;
    /** A number written as a float with an integral value (`5.0`) is a {@link FloatNumber}. */
    readonly traits: Readonly<Record<string, string | number | boolean | FloatNumber | null>>;
    /** Who asked: the environment key kind and a non-secret key reference. */
    readonly actor: { readonly keyKind: 'client' | 'server'; readonly keyPrefix: string };
    readonly correlationId: string;
    /**
     * The caller looked the identity up and found none: the write may take it as new without
     * looking again. A hint only: were it wrong, the write still finds the stored identity.
     */
    readonly absent?: boolean;
  }): Promise<void>;
}
