/** Figures a run prints for the record (events, kills, convergence times, request counts). */
export function report(topic: string, figures: Readonly<Record<string, string | number>>): void {
  const text = Object.entries(figures)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
  console.info(`[${topic}] ${text}`);
}
