/** What was started, undone in reverse order; each step returns a line saying what it did. */
export class Teardown {
  readonly #steps: { label: string; run: () => Promise<string | undefined> }[] = [];
  #running: Promise<void> | undefined;

  add(label: string, run: () => Promise<string | undefined>): void {
    this.#steps.push({ label, run });
  }

  /** Runs every step once (later calls wait for the first); a failing step does not stop the rest. */
  run(report: (line: string) => void): Promise<void> {
    this.#running ??= (async () => {
      for (const step of [...this.#steps].reverse()) {
        try {
          const line = await step.run();
          if (line) report(line);
        } catch (error) {
          report(`${step.label}: failed to stop: ${(error as Error).message}`);
        }
      }
    })();
    return this.#running;
  }
}
