import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PromptCancelled, secretPrompt } from '../../shared/terminal/secret-prompt.ts';

/** A stdin (a terminal when `tty`) and a stderr whose every byte is kept. */
function streams(tty: boolean) {
  const input = Object.assign(new PassThrough(), tty ? { isTTY: true, raw: false, setRawMode(this: { raw: boolean }, on: boolean) { this.raw = on; } } : {});
  const output = new PassThrough();
  let written = '';
  output.on('data', (d: Buffer) => (written += d.toString()));
  return { input, output, written: () => written, raw: () => (input as unknown as { raw: boolean }).raw };
}

describe('secretPrompt on a terminal', () => {
  it('shows the question, never what is typed; Backspace edits; two answers pasted at once are both kept', async () => {
    const s = streams(true);
    const p = secretPrompt(s.input, s.output);
    const first = p.ask('PIN: ');
    expect(s.raw()).toBe(true);
    s.input.write('13x\u007f5792\r135792\r');
    expect(await first).toBe('135792');
    expect(await p.ask('Again: ')).toBe('135792');
    p.close();
    expect(s.raw()).toBe(false);
    expect(s.written()).toBe('PIN: \nAgain: \n');
  });

  it('arrow keys, Delete and Alt-letters are skipped; a pasted CRLF is one line end; a character split between reads is kept whole', async () => {
    const s = streams(true);
    const p = secretPrompt(s.input, s.output);
    const first = p.ask('Password: ');
    s.input.write('123\u001b[D456\u001b[3~\u001bx\u001bOH\u001b\u001b[A789\r\n');
    expect(await first).toBe('123456789');
    const second = p.ask('Again: ');
    const bytes = Buffer.from('pässwört\r', 'utf8');
    s.input.write(bytes.subarray(0, 2));
    s.input.write(bytes.subarray(2));
    expect(await second).toBe('pässwört');
    p.close();
  });

  it('after Ctrl-C nothing more is answered, not even a line typed before it', async () => {
    const s = streams(true);
    const p = secretPrompt(s.input, s.output);
    const first = p.ask('PIN: ');
    s.input.write('111111\r222222\r\u0003');
    expect(await first).toBe('111111');
    await expect(p.ask('Again: ')).rejects.toBeInstanceOf(PromptCancelled);
    p.close();
  });

  it('Ctrl-C cancels, and so does Ctrl-D on an empty line', async () => {
    for (const key of ['\u0003', '\u0004']) {
      const s = streams(true);
      const p = secretPrompt(s.input, s.output);
      const asked = p.ask('PIN: ');
      s.input.write(`12${key === '\u0004' ? '\u007f\u007f' : ''}${key}`);
      await expect(asked).rejects.toBeInstanceOf(PromptCancelled);
      await expect(p.ask('Again: ')).rejects.toThrow('Cancelled; nothing was changed.');
      p.close();
      expect(s.raw()).toBe(false);
    }
  });
});

describe('secretPrompt on a stdin that is not a terminal', () => {
  it('answers each question with the next line, before or after it is asked; CRLF and a byte-order mark are dropped', async () => {
    const s = streams(false);
    const p = secretPrompt(s.input, s.output);
    s.input.write('\uFEFFfirst\r\nsec');
    const one = p.ask('one? ');
    s.input.write('ond\r');
    s.input.write('\n');
    expect(await one).toBe('first');
    expect(await p.ask('two? ')).toBe('second');
    const third = p.ask('three? ');
    s.input.write('third\n');
    expect(await third).toBe('third');
    p.close();
    expect(s.written()).toBe('one? \ntwo? \nthree? \n');
  });

  it('fails a question stdin ends before answering, instead of waiting for ever', async () => {
    const s = streams(false);
    const p = secretPrompt(s.input, s.output);
    s.input.end('only\nlast line without an end');
    expect(await p.ask('one? ')).toBe('only');
    expect(await p.ask('two? ')).toBe('last line without an end');
    await expect(p.ask('three? ')).rejects.toThrow('stdin ended before every answer was given; nothing was changed.');
  });
});
