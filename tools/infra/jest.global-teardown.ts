import { takeSharedServers } from './shared-servers';

export default async function globalTeardown(): Promise<void> {
  const { redis, kafka } = takeSharedServers();
  await Promise.all([redis?.dispose(), kafka?.dispose()]);
}
