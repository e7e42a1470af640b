/** Stream categories of the write model; the category is the stream name up to the first hyphen. */
export const STREAM_CATEGORIES = ['user', 'organisation', 'project', 'identity', 'sequence'] as const;
export type StreamCategory = (typeof STREAM_CATEGORIES)[number];

export function categoryOf(streamName: string): StreamCategory | null {
  const category = streamName.slice(0, streamName.indexOf('-'));
  return (STREAM_CATEGORIES as readonly string[]).includes(category) ? (category as StreamCategory) : null;
}
