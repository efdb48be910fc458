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
  const onData = (chunk: Buffer | string) => {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (const ch of text) {
      if (ch === '\n' || (tty && ch === '\r')) {
        answer(current.replace(/\r$/, ''));
        current = '';
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
    if (current !== '') answer(current.replace(/\r$/, ''));
    current = '';
    cancel(new PromptCancelled('stdin ended before every answer was given; nothing was changed.'));
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
        if (lines.length) return lines.shift()!;
        if (cancelled) throw cancelled;
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
