import { eventStoreConnectionStringProblem } from './connection-string';

describe('eventStoreConnectionStringProblem', () => {
  const password = 'Pw-9f2Kq7ZxLm';

  it.each([
    `kurrentdb://admin:${password}@n1:2113,n2:2113,n3:2113?tls=true`,
    `kurrentdb+discover://admin:${password}@cluster.internal:2113?nodePreference=follower`,
    'kurrentdb://127.0.0.1:2113?tls=false',
    'kurrent://n1,n2?keepAliveInterval=10000',
    'kdb://n1:2113',
    'esdb://n1:2113?tls=false&tlsVerifyCert=false',
  ])('accepts %s as the client does', (value) => {
    expect(eventStoreConnectionStringProblem(value)).toBeUndefined();
  });

  it.each([
    [`kurrentdb://admin:${password}@n1:2113?tls=maybe`, 'expected true or false'],
    [`kurrentdb://admin:${password}@n1:port`, 'expected port number'],
    [`http://admin:${password}@n1:2113`, 'expected kurrentdb://'],
    [`kurrentdb://admin:${password}@n1:2113,n2:2113?nodePreference=nearest`, 'expected leader'],
  ])('refuses %s, saying what was expected and never quoting it', (value, expected) => {
    const problem = eventStoreConnectionStringProblem(value);
    expect(problem).toContain(expected);
    expect(problem).not.toContain(password);
  });
});
