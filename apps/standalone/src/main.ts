import { ConfigError, loadStandaloneConfig } from './config';
import { workersWithV8HeapDefaults } from './node-options';
import { startStandalone } from './standalone';

async function main(): Promise<void> {
  // The old-generation floor of `npm start` is the event loop's; threads started from here on get V8's defaults.
  workersWithV8HeapDefaults();
  const config = await loadStandaloneConfig();
  const app = await startStandalone(config);
  if (config.adminKeyGenerated) {
    console.log(`\nAdmin API key (generated, kept in ${config.dataDir}/admin-api-key; shown once):\n\n  ${config.adminApiKey}\n`);
  }
  console.log(`Flagline standalone listening on ${app.url.replace('127.0.0.1', config.host)} (data in ${config.dataDir})`);
  const shutdown = (): void => {
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `Configuration error: ${error.message}` : error);
  process.exit(1);
});
