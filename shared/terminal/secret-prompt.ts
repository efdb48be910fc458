import { StringDecoder } from 'node:string_decoder';

/** Thrown when the person at the keyboard cancels (Ctrl-C, Ctrl-D) or stdin ends before an answer. */
export class PromptCancelled extends Error {
  constructor(message = 'Cancelled; nothing was changed.') {
    super(message);
    this.name = 'PromptCancelled';
  }
}

export interface SecretPrompt {
  /** Asks one question and resolves to the line typed (without its line ending). */
  ask(question: string): Promise<string>;
  /** Stops reading stdin (and gives the terminal its echo back), so the process can end. */
  close(): void;
}

type TtyInput = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };

/**
 * Asks for secrets (PINs, passwords) without echoing them. On a terminal, stdin is read raw while the
 * prompt is open: nothing typed is shown, Backspace edits, Enter answers, Ctrl-C or Ctrl-D cancels
 * (PromptCancelled). Otherwise (a script, `< answers.txt`) each question takes the next line; CRLF line
 * ends and a leading byte-order mark are dropped. One reader for all the questions, so two answers
 * pasted at once are both kept. Questions go to stderr: they are not output, and stdout may be a file.
 */
export function secretPrompt(input: TtyInput = process.stdin, output: NodeJS.WritableStream = process.stderr): SecretPrompt {
  const tty = input.isTTY === true && typeof input.setRawMode === 'function';
  const lines: string[] = [];
  const waiting: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  let current = '';
  let cancelled: PromptCancelled | null = null;
  let ended: PromptCancelled | null = null;
  let started = false;
  let first = true;

  const answer = (line: string) => {
    if (first) line = line.replace(/^\uFEFF/, '');
    first = false;
    const w = waiting.shift();
    if (w) w.resolve(line);
    else lines.push(line);
  };
  const cancel = (e: PromptCancelled) => {
    cancelled ??= e;
    for (const w of waiting.splice(0)) w.reject(cancelled);
  };
  // A character split between two reads is joined, not garbled.
  const decoder = new StringDecoder('utf8');
  // Terminal escape sequences (arrows, Delete, Alt-x) are keys, not part of a secret: skipped. `esc`
  // is where in one the reader is: after ESC, after ESC [ or ESC O (until the final byte).
  let esc: 'no' | 'esc' | 'csi' | 'ss3' = 'no';
  let afterCr = false;
  const onData = (chunk: Buffer | string) => {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    for (const ch of text) {
      if (tty && esc !== 'no') {
        // ESC ESC (Alt+arrow on some terminals) starts the sequence again.
        if (esc === 'esc') esc = ch === '[' ? 'csi' : ch === 'O' ? 'ss3' : ch === '\u001b' ? 'esc' : 'no';
        else if (esc === 'ss3' || (ch >= '@' && ch <= '~')) esc = 'no';
        continue;
      }
      // On a terminal Enter is CR; a pasted CRLF is one line end, not an empty second answer.
      if (tty && ch === '\n' && afterCr) {
        afterCr = false;
        continue;
      }
      afterCr = ch === '\r';
      if (ch === '\n' || (tty && ch === '\r')) {
        answer(current.replace(/\r$/, ''));
        current = '';
      } else if (tty && ch === '\u001b') {
        esc = 'esc';
      } else if (tty && ch === '\u0003') {
        return cancel(new PromptCancelled());
      } else if (tty && ch === '\u0004') {
        if (current === '') return cancel(new PromptCancelled());
      } else if (tty && (ch === '\u007f' || ch === '\b')) {
        current = [...current].slice(0, -1).join('');
      } else if (!tty || ch >= ' ') {
        current += ch;
      }
    }
  };
  const onEnd = () => {
    current += decoder.end();
    if (current !== '') answer(current.replace(/\r$/, ''));
    current = '';
    // Lines read before the end still answer; a question after them cannot be.
    ended = new PromptCancelled('stdin ended before every answer was given; nothing was changed.');
    for (const w of waiting.splice(0)) w.reject(ended);
  };
  const start = () => {
    started = true;
    if (tty) input.setRawMode!(true);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  };

  return {
    async ask(question) {
      if (!started) start();
      output.write(question);
      try {
        // After a cancel nothing more is answered, not even from lines typed before it.
        if (cancelled) throw cancelled;
        if (lines.length) return lines.shift()!;
        if (ended) throw ended;
        return await new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
      } finally {
        output.write('\n');
      }
    },
    close() {
      if (!started) return;
      started = false;
      input.off('data', onData);
      input.off('end', onEnd);
      if (tty) input.setRawMode!(false);
      input.pause();
    },
  };
}
