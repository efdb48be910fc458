import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { secretPrompt } from '../../local/prompt.ts';

const streams = () => {
  const input = new PassThrough() as unknown as NodeJS.ReadStream;
  const output = new PassThrough() as unknown as NodeJS.WriteStream;
  let written = '';
  (output as unknown as PassThrough).on('data', (d: Buffer) => (written += d.toString()));
  return { input, output, written: () => written };
};

describe('secretPrompt on a stdin that is not a terminal', () => {
  it('answers each question with the next line, whether the lines came before or after the question', async () => {
    const s = streams();
    const p = secretPrompt(s.input, s.output);
    (s.input as unknown as PassThrough).write('first\nsecond\n');
    expect(await p.ask('one? ')).toBe('first');
    expect(await p.ask('two? ')).toBe('second');
    const third = p.ask('three? ');
    (s.input as unknown as PassThrough).write('third\n');
    expect(await third).toBe('third');
    p.close();
    expect(s.written()).toBe('one? \ntwo? \nthree? \n');
  });

  it('fails a question stdin ends before answering, instead of waiting for ever', async () => {
    const s = streams();
    const p = secretPrompt(s.input, s.output);
    (s.input as unknown as PassThrough).end('only\n');
    expect(await p.ask('one? ')).toBe('only');
    await expect(p.ask('two? ')).rejects.toThrow('stdin ended before every answer was given.');
  });
});
