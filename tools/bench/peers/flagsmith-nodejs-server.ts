import { Flagsmith, LocalFileHandler } from 'flagsmith-nodejs';
import { createServer } from 'node:http';

/**
 * flagsmith-nodejs's own engine behind the same bare server: it evaluates each identity
 * request locally from our environment document, as its local-evaluation mode does.
 * argv: port, environment document file.
 */
const [port, documentFile] = process.argv.slice(2);
const flagsmith = new Flagsmith({ environmentKey: 'ser.bench', offlineMode: true, offlineHandler: new LocalFileHandler(documentFile as string) });

createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { identifier: string; traits: { trait_key: string; trait_value: string | number }[] };
    const traits = Object.fromEntries(parsed.traits.map((trait) => [trait.trait_key, trait.trait_value]));
    flagsmith.getIdentityFlags(parsed.identifier, traits).then(
      (flags) => {
        const body = JSON.stringify({
          identifier: parsed.identifier,
          flags: flags.allFlags().map((flag) => ({ feature: { id: flag.featureId, name: flag.featureName }, enabled: flag.enabled, feature_state_value: flag.value })),
        });
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        response.end(body);
      },
      (error: unknown) => {
        response.writeHead(500);
        response.end(String(error));
      },
    );
  });
}).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
