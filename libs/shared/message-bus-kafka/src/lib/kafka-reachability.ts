import { Kafka, logLevel } from 'kafkajs';

/**
 * Connects to the brokers once and leaves, so a service can fail at start naming the address it
 * could not reach instead of retrying inside a consumer without saying where. A few retries
 * (about 2 s) ride out a broker that is still starting.
 */
export async function checkKafkaReachable(brokers: readonly string[], clientId: string): Promise<void> {
  const admin = new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 4, initialRetryTime: 100, maxRetryTime: 1000 } }).admin();
  try {
    await admin.connect();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
