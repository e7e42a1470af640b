import type { AdminApplication } from '@flagline/admin-application';
import type { INestApplication } from '@nestjs/common';
import { FloatNumber } from '@flagline/python-compat';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminHttpApp } from '../admin-http-app';

/**
 * Identify calls that evaluation services forward to the command service keep a trait written
 * `5.0` a float all the way to the application (other numbers stay as JSON.parse reads them).
 */
describe('The internal identity-write API and traits written as floats', () => {
  const TOKEN = 'internal-token-for-tests-0123456789';
  const recorded: { traits: Record<string, unknown> }[] = [];
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const application = {
      identities: {
        recordFromSdk: (input: { traits: Record<string, unknown> }) => {
          recorded.push(input);
          return Promise.resolve(null);
        },
      },
    } as unknown as AdminApplication;
    app = await createAdminHttpApp(application, { health: () => ({}), internalToken: TOKEN });
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer() as Server;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app.close();
  });

  it('when a body holds 5.0, 18 and 2.5, then the application gets a FloatNumber, an int and a float', async () => {
    const response = await fetch(`${url}/internal/v1/identities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"environmentId": 1, "identifier": "ada", "traits": {"score": 5.0, "age": 18, "ratio": 2.5, "__proto__": 1.0}, "actor": {"keyKind": "server", "keyPrefix": "ser."}, "correlationId": "c-1"}',
    });
    expect(response.status).toBe(204);
    const traits = recorded[0]?.traits ?? {};
    expect(traits['score']).toBeInstanceOf(FloatNumber);
    expect(Number(traits['score'])).toBe(5);
    expect(traits['age']).toBe(18);
    expect(traits['ratio']).toBe(2.5);
    expect(Object.hasOwn(traits, '__proto__')).toBe(true);
  });

  it('when a trait value is not a scalar, then 400 names it and nothing is recorded', async () => {
    const before = recorded.length;
    const response = await fetch(`${url}/internal/v1/identities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"environmentId": 1, "identifier": "ada", "traits": {"score": [5.0]}, "actor": {"keyKind": "server", "keyPrefix": "ser."}, "correlationId": "c-1"}',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('traits');
    expect(recorded.length).toBe(before);
  });
});
