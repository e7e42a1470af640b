import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Redis key store is as durable as the server is configured to be: the compose file's Redis
 * must fsync every write (appendfsync always), or a crash can lose the key of an acknowledged event.
 */
describe('the Redis that keeps sealing keys (docker-compose.yml)', () => {
  it('runs with the append-only file fsynced on every write', () => {
    const compose = readFileSync(join(__dirname, '../../../../../docker-compose.yml'), 'utf8');
    const redis = /^ {2}redis:\n((?: {4}.*\n|\s*\n)+)/m.exec(compose)?.[1];
    if (redis === undefined) throw new Error('docker-compose.yml has no redis service');
    const command = /^ {4}command: (\[.*\])$/m.exec(redis)?.[1];
    if (command === undefined) throw new Error('the redis service has no command');
    const args = JSON.parse(command) as string[];
    const option = (name: string): string | undefined => args[args.indexOf(name) + 1];
    expect(args[0]).toBe('redis-server');
    expect(option('--appendonly')).toBe('yes');
    expect(option('--appendfsync')).toBe('always');
  });
});
