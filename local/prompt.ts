import { createInterface, type Interface } from 'node:readline';

export interface SecretPrompt {
  /** Asks one question and resolves to the answer as typed. */
  ask(question: string): Promise<string>;
  /** Lets the process end (stdin is no longer read). */
  close(): void;
}

/**
 * Asks for secrets on the terminal without echoing them; when stdin is not a terminal (a script, a
 * pipe), each question takes the next line of stdin instead, so `printf '…\n…\n' | teleread …` works.
 */
export function secretPrompt(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stdout): SecretPrompt {
  let rl: Interface | null = null;
  if (input.isTTY) {
    return {
      async ask(question) {
        const tty = createInterface({ input, output, terminal: true });
        rl = tty;
        // readline echoes what is typed through _writeToOutput; silencing it hides the secret.
        const muted = tty as unknown as { _writeToOutput?: (s: string) => void };
        output.write(question);
        muted._writeToOutput = () => {};
        try {
          return await new Promise<string>((resolve) => tty.question('', resolve));
        } finally {
          tty.close();
          rl = null;
          output.write('\n');
        }
      },
      close: () => rl?.close(),
    };
  }
  const lines: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  let ended = false;
  return {
    async ask(question) {
      if (!rl) {
        rl = createInterface({ input, terminal: false });
        rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)));
        rl.on('close', () => {
          ended = true;
          for (const w of waiting.splice(0)) w(null);
        });
      }
      output.write(question);
      const line = lines.length ? lines.shift()! : ended ? null : await new Promise<string | null>((resolve) => waiting.push(resolve));
      output.write('\n');
      if (line === null) throw new Error('stdin ended before every answer was given.');
      return line;
    },
    close: () => rl?.close(),
  };
}
