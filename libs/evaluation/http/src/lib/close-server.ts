import type { Server } from 'node:http';

/**
 * Stops a server: it accepts no more connections, idle keep-alive connections are closed at once,
 * the answers already made are written (answers are written at the end of the event loop's turn,
 * see `TurnWrites`, so they wait for one more turn), and then every connection still open is closed.
 * Resolves when the server has closed.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    // Queued before this one, the turn's pending writes run first.
    setImmediate(() => server.closeAllConnections());
  });
}
