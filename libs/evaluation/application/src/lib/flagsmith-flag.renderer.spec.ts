import { ServedEnvironment } from './served-environment';
import { anEnvironmentDocument } from './testing/environment-documents';

describe('FlagRenderer.flagBytes', () => {
  it('gives each outcome its own bytes when users alternate between outcomes of one feature', () => {
    const environment = new ServedEnvironment(anEnvironmentDocument());
    const renderer = environment.renderer;
    const outcomeFor = (plan: string) => environment.evaluateIdentity({ identifier: `user-${plan}`, traits: { plan } }, null)[0];
    const pro = outcomeFor('pro');
    const free = outcomeFor('free');
    if (pro === undefined || free === undefined) throw new Error('the environment has one feature');
    expect(pro).not.toBe(free);
    for (let round = 0; round < 3; round++) {
      for (const [outcome, value] of [
        [pro, 'für pro ☂'],
        [free, 'default'],
        [free, 'default'],
        [pro, 'für pro ☂'],
      ] as const) {
        const bytes = renderer.flagBytes(outcome);
        expect(bytes.equals(Buffer.from(renderer.flag(outcome)))).toBe(true);
        expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ feature_state_value: value, feature: { name: 'banner' } });
      }
    }
    // The same outcome is answered with the same bytes, not rendered again.
    expect(renderer.flagBytes(pro)).toBe(renderer.flagBytes(pro));
  });
});
