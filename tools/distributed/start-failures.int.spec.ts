// A projector whose Kafka is unreachable at start (its Redis answering) names the brokers it
// could not reach in one fatal JSON line and exits 1.
import { describeWithInfra, findFreePort, redisUrl } from '@flagline/infra-testing';
import { expectOneFatalLine, runServiceProcess } from './start-failure.testing';

describeWithInfra('a projector that cannot reach Kafka at start', () => {
  it('names Kafka and the brokers it tried', async () => {
    const brokers = `127.0.0.1:${await findFreePort()}`;
    const run = await runServiceProcess('projector', { REDIS_URL: redisUrl(), KAFKA_BROKERS: brokers, READ_MODEL_PREFIX: 'start-failure-spec:rm:', SEALING_KEY_PREFIX: 'start-failure-spec:key:' });
    expect(expectOneFatalLine(run)).toEqual(expect.objectContaining({ dependency: 'Kafka', address: brokers }));
  }, 60_000);
});
