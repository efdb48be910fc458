import { describe, expect, it } from 'vitest';
import { JoseTokenService } from '../../../shared/adapters/local/jose-token-service.ts';
import type { Principal } from '../../../shared/contracts/auth.ts';

const secret = new Uint8Array(32).fill(7);
const reader = { userId: 'u-reader', role: 'reader', pools: ['ecg'] } as Principal;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code';
  }
  return 'resolved';
}

describe('JoseTokenService', () => {
  it('verifies its own tokens, again from memory, and still refuses altered or foreign ones', async () => {
    const s = new JoseTokenService(secret);
    const token = await s.issue(reader);
    const first = await s.verify(token);
    expect(first).toMatchObject({ userId: 'u-reader', role: 'reader', pools: ['ecg'] });
    expect(await s.verify(token)).toBe(first);
    const [h, body, sig] = token.split('.');
    const flipped = `${h}.${body}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(await code(s.verify(flipped))).toBe('AUTH.INVALID_TOKEN');
    const other = new JoseTokenService(new Uint8Array(32).fill(8));
    expect(await code(other.verify(token))).toBe('AUTH.INVALID_TOKEN');
  });

  it('a remembered token expires at its exp like a fresh one', async () => {
    // issue() stamps iat/exp from the real clock; the service's clock starts there and moves on.
    let now = Date.now();
    const s = new JoseTokenService(secret, 60, 'teleread-local', () => now);
    const token = await s.issue(reader);
    await s.verify(token);
    now += 59_000;
    expect(await code(s.verify(token))).toBe('resolved');
    now += 2_000;
    expect(await code(s.verify(token))).toBe('AUTH.TOKEN_EXPIRED');
    // And one never seen before is refused by jose against the same clock.
    const fresh = new JoseTokenService(secret, 60, 'teleread-local', () => now);
    expect(await code(fresh.verify(token))).toBe('AUTH.TOKEN_EXPIRED');
  });
});
