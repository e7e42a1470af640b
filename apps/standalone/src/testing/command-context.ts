import type { CommandContext } from '@flagline/event-sourcing';

let commandCount = 0;

/** A fresh command context for specs that drive deciders directly: one second apart, one actor, ids numbered in order. */
export const commandContext = (): CommandContext => ({
  commandId: `command-${++commandCount}`,
  actor: { kind: 'user', id: '1', name: 'ada@example.com' },
  now: new Date(Date.UTC(2026, 0, 1, 0, 0, commandCount)),
  correlationId: `correlation-${commandCount}`,
});
