import { FlagsmithSdkService, OfrepService, type EnvironmentRegistry } from '@flagline/evaluation-application';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EvaluationHttpHandler } from './evaluation-http.handler';
import { SdkIncomingMessage } from './sdk-incoming-message';

export interface ServedHandler {
  readonly base: string;
  close(): Promise<void>;
}

/** The SDK and OFREP handler over `registry` on a real node:http server on a free local port (404 for other routes). */
export async function serveHandler(registry: EnvironmentRegistry): Promise<ServedHandler> {
  const handler = new EvaluationHttpHandler(registry, new FlagsmithSdkService(registry), new OfrepService(registry));
  const server = createServer({ IncomingMessage: SdkIncomingMessage }, (request, response) => {
    if (!handler.handle(request, response)) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
